package apitest

import (
	"strings"
	"testing"
)

// StatementCase is one request whose statements StatementCount pins.
type StatementCase struct {
	Name   string
	Method string   // from the template when empty
	Path   string   // from the template when empty
	Header []string // name, value pairs, sent after the template's
	Body   any      // as Server.Call sends it
	Status int      // the answer's status
	// Want is how many statements the request runs (RecordSQL), Tx how many of them run inside a
	// transaction; on every database alike.
	Want, Tx int
}

// StatementCount starts, on every database of Dialects, the server of start, which also returns
// the template of its requests (method, path, header), and serves warm (a request that fills the
// caches a steady load keeps warm, such as the credential's) and then each case, in order. It
// fails t unless each case runs exactly its Want statements, Tx of them inside a transaction: a
// round trip added to a request fails it. The statements are listed on failure.
func StatementCount(t *testing.T, start func(t *testing.T, dialect string) (*Server, StatementCase), warm StatementCase, cases []StatementCase) {
	ForEachDialect(t, func(t *testing.T, dialect string) {
		s, template := start(t, dialect)
		sql := RecordSQL(t, s.DB)
		for i, c := range append([]StatementCase{warm}, cases...) {
			if c.Method == "" {
				c.Method = template.Method
			}
			if c.Path == "" {
				c.Path = template.Path
			}
			c.Header = append(append([]string(nil), template.Header...), c.Header...)
			sql.Take()
			res := s.Call(t, c.Method, c.Path, c.Body, c.Header...)
			got := sql.Take()
			if res.Status != c.Status {
				t.Fatalf("%s: status %d, want %d: %s", c.Name, res.Status, c.Status, res.Body)
			}
			if i == 0 { // warm
				continue
			}
			tx := 0
			var lines []string
			for _, st := range got {
				if st.InTx {
					tx++
				}
				lines = append(lines, st.SQL)
			}
			if len(got) != c.Want || tx != c.Tx {
				t.Errorf("%s on %s: %d statements, %d in a transaction; want %d, %d:\n%s",
					c.Name, dialect, len(got), tx, c.Want, c.Tx, strings.Join(lines, "\n"))
			}
		}
	})
}
