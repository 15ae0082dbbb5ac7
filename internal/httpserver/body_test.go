package httpserver

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAll: readAll sizes its buffer from the announced Content-Length, but reads the body as
// it is, whatever was announced, and passes on a failure to read it.
func TestReadAll(t *testing.T) {
	body := []byte(strings.Repeat("0123456789", 300))
	for _, announced := range []int64{-1, 0, 1, 10, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 1, 2 * int64(len(body)), maxPresize + 1} {
		for name, r := range map[string]io.Reader{
			"whole":        bytes.NewReader(body),
			"byte a read":  iotest.OneByteReader(bytes.NewReader(body)),
			"data and EOF": iotest.DataErrReader(bytes.NewReader(body)),
		} {
			got, err := readAll(r, announced)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("readAll(%s, %d): %d bytes, error %v, want the %d bytes", name, announced, len(got), err, len(body))
			}
		}
	}
	cut := errors.New("cut short")
	if _, err := readAll(io.MultiReader(bytes.NewReader(body[:5]), iotest.ErrReader(cut)), int64(len(body))); !errors.Is(err, cut) {
		t.Errorf("readAll of a body that fails: error %v, want %v", err, cut)
	}
}
