package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// stdDecode is what the validator decoded a JSON body with before decodeJSONValue: encoding/json's
// Decoder with UseNumber, and nothing but white space after the value.
func stdDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// jsonSeeds are bodies at the edges of JSON's grammar and of encoding/json's decoding.
var jsonSeeds = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5, -0, 1e3, 1E-3, -1.5e+7]} `, `"x"`, `1`, `-`, `-0`, `01`, `1.`, `.1`, `1e`,
	`1e+`, `true`, `false`, `null`, `tru`, `nul`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{1:2}`, `[1 2]`, `{} {}`, `{} x`, `{}x`,
	`{"a":1,"a":2}`, `"\u00e9\n\t\"\\\/\b\f\r"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ud83d\u0041"`,
	`"\ud83d\ud83d\ude00"`, `"\u12"`, `"\u12G4"`, `"\x"`, "\"a\x00b\"", "\"\x1f\"", "\"\xff\"", "\"\xe2\x82\"", "\"é ü 日本\"",
	"{\"\xff\":1}", `{"login":"a@b.c","role_ids":[1,2],"x":{"y":[{"z":null}]}}`, `"unterminated`, `{"a":`, `[`, `{`,
	"\ufeff{}", `123456789012345678901234567890`, `{"a":"\u0000"}`, "\t\r\n[\t1\r,\n2 ]\n",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

// checkSameAsStd fails when decodeJSONValue and encoding/json disagree about data: whether it
// decodes, and to what.
func checkSameAsStd(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := stdDecode(data)
	for _, names := range []map[string]string{nil, {"a": "a", "login": "login"}} {
		got, err := decodeJSONValue(data, names)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("decodeJSONValue(%q): error %v, encoding/json's %v", data, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeJSONValue(%q) = %#v, encoding/json's %#v", data, got, want)
		}
	}
}

func TestDecodeJSONValueAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkSameAsStd(t, []byte(s))
	}
}

// FuzzDecodeJSONValue compares decodeJSONValue with encoding/json on any input:
// go test ./internal/httpserver -run XXX -fuzz FuzzDecodeJSONValue.
func FuzzDecodeJSONValue(f *testing.F) {
	for _, s := range jsonSeeds {
		if len(s) < 1000 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkSameAsStd(t, data) })
}

// TestDecodeJSONValueInternsKeys: a key among the names is the name itself, not a copy; others
// are decoded as they are.
func TestDecodeJSONValueInternsKeys(t *testing.T) {
	name := strings.Clone("login")
	v, err := decodeJSONValue([]byte(`{"login":"x","other":1}`), map[string]string{name: name})
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	for k := range m {
		if interned := unsafe.StringData(k) == unsafe.StringData(name); interned != (k == "login") {
			t.Errorf("key %q: interned %v, want %v", k, interned, k == "login")
		}
	}
	if len(m) != 2 || m["login"] != "x" || m["other"] != json.Number("1") {
		t.Errorf("got %#v, want login x and other 1", m)
	}
}
