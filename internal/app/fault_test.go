package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
)

// A delay fault never holds up a shutdown: once the server starts shutting down, a request
// waiting out a 60 s delay is served at once, answered in full, and Serve returns.
func TestShutdownEndsFaultDelays(t *testing.T) {
	r := serve(t, apitest.DatabaseURL(t, "sqlite"))
	req, err := http.NewRequest("POST", r.base+"/_provisiond/v1/faults", strings.NewReader(
		`{"match": {"api": "xcart", "operation": "createProfile"}, "action": {"type": "delay", "delay_ms": 60000}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.keyOf(t, "control"))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("add the delay rule: %d", res.StatusCode)
	}

	type answer struct {
		status int
		login  any
	}
	answered := make(chan answer, 1)
	key := r.key(t)
	go func() {
		req, _ := http.NewRequest("POST", r.base+"/api/profiles", strings.NewReader(`{"login":"delayed@example.com"}`))
		req.Header.Set("X-Auth-Token", key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{0, err.Error()}
			return
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		answered <- answer{res.StatusCode, body["login"]}
	}()
	// Shut down once the request is waiting out its delay.
	for !strings.Contains(r.logs.String(), `"msg":"fault injected"`) {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	r.stop(t)
	select {
	case a := <-answered:
		if a.status != http.StatusCreated || a.login != "delayed@example.com" {
			t.Errorf("the delayed create during shutdown: %d %v, want 201 with its profile", a.status, a.login)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the delayed create was not answered after Serve returned")
	}
	// Serve returned (r.stop waited for it) long before the delay was over.
	if waited := time.Since(start); waited > 30*time.Second {
		t.Errorf("shutdown waited %v: the delay held it up", waited)
	}
}
