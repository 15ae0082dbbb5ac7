package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	mdLink    = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`^#{1,6} (.+)$`)
	notSlug   = regexp.MustCompile(`[^\p{L}\p{N}\- _]`)
)

// slug is the anchor GitHub gives a heading.
func slug(heading string) string {
	return strings.ReplaceAll(notSlug.ReplaceAllString(strings.ToLower(strings.TrimSpace(heading)), ""), " ", "-")
}

// markdown is a Markdown file's links and the anchors of its headings, code blocks left out.
func markdown(t *testing.T, path string) (links []string, anchors map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	anchors = map[string]bool{}
	fence := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "```") {
			fence = !fence
			continue
		}
		if fence {
			continue
		}
		if m := mdHeading.FindStringSubmatch(line); m != nil {
			anchors[slug(m[1])] = true
		}
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			links = append(links, m[1])
		}
	}
	return links, anchors
}

// Every relative link of the README and of docs/ leads to a file of the repository, and every
// #anchor to a heading of its page: the documentation is split into pages that link each other.
func TestMarkdownLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join(root, "README.md"), filepath.Join(root, "CHANGELOG.md"))
	if len(pages) < 10 {
		t.Fatalf("%d Markdown pages, want the README, the CHANGELOG and the docs/ pages", len(pages))
	}
	anchorsOf := map[string]map[string]bool{}
	linksOf := map[string][]string{}
	for _, p := range pages {
		linksOf[p], anchorsOf[p] = markdown(t, p)
	}
	checked := 0
	for _, p := range pages {
		for _, l := range linksOf[p] {
			if strings.Contains(l, "://") || strings.HasPrefix(l, "mailto:") || strings.HasPrefix(l, "/") {
				continue // absolute: another site, or a path of a running server
			}
			file, anchor, _ := strings.Cut(l, "#")
			target := p
			if file != "" {
				target = filepath.Join(filepath.Dir(p), file)
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s: link %s: %v", p, l, err)
					continue
				}
			}
			checked++
			if anchor == "" {
				continue
			}
			anchors, ok := anchorsOf[filepath.Clean(target)]
			if !ok && strings.HasSuffix(target, ".md") {
				_, anchors = markdown(t, target)
			}
			if !anchors[anchor] {
				t.Errorf("%s: link %s: %s has no heading #%s", p, l, target, anchor)
			}
		}
	}
	if checked < 50 {
		t.Errorf("%d links checked, want the documentation's links (50 at least)", checked)
	}
}
