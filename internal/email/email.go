// Package email holds the one definition of a valid email address that the specs' `format: email`
// and the services share, so that a service can check an address without depending on the HTTP layer.
package email

import "regexp"

// Pattern is the HTML5 definition of a valid email address. It is also Symfony's
// Email::PATTERN_HTML5, the rule of X-Cart's logins (Symfony 5.4's validator in the html5 mode of
// X-Cart's config/packages/validator.yaml), which refuses internationalized addresses.
const Pattern = `^[a-zA-Z0-9.!#$%&'*+/=?^_` + "`" + `{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$`

var re = regexp.MustCompile(Pattern)

// Valid reports whether s is a valid email address by the definition the specs' `format: email` uses.
func Valid(s string) bool { return re.MatchString(s) }
