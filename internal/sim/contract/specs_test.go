package contract

import "testing"

func TestLoadSpecs(t *testing.T) {
	s, err := LoadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range s.Docs {
		t.Logf("%s: %d paths", name, d.Paths.Len())
	}
}
