package apitest

import (
	"strings"
	"testing"
)

// StatementCase is one request whose statements a StatementCount test pins.
type StatementCase struct {
	Name   string
	Method string
	Path   string
	Body   any      // as Server.Call sends it
	Header []string // name, value pairs
	Status int      // the answer's status
	// Want is how many statements the request runs (RecordSQL), Tx how many of them run inside a
	// transaction; on every database alike.
	Want, Tx int
}

// StatementCount serves each case on s, in order, after warm (a request of the same API that
// fills the caches a steady load keeps warm, such as the credential's), and fails t unless each
// runs exactly its Want statements, Tx of them inside a transaction: a round trip added to a
// write fails it. The statements are listed on failure.
func StatementCount(t *testing.T, s *Server, warm StatementCase, cases []StatementCase) {
	t.Helper()
	sql := RecordSQL(t, s.DB)
	for _, c := range append([]StatementCase{warm}, cases...) {
		sql.Take()
		res := s.Call(t, c.Method, c.Path, c.Body, c.Header...)
		got := sql.Take()
		if res.Status != c.Status {
			t.Fatalf("%s: status %d, want %d: %s", c.Name, res.Status, c.Status, res.Body)
		}
		if c.Name == warm.Name {
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
				c.Name, s.DB.Name(), len(got), tx, c.Want, c.Tx, strings.Join(lines, "\n"))
		}
	}
}
