package rawbtf_test

import (
	"testing"

	"github.com/btftool/btftool/pkg/rawbtf"
)

func TestEssentialName(t *testing.T) {
	for in, want := range map[string]string{
		"task_struct":         "task_struct",
		"task_struct___old":   "task_struct",
		"task_struct___a___b": "task_struct___a",
		"__x___y":             "__x",
		"a____b":              "a____b",
		"x___":                "x___",
		"___y":                "___y",
		"sk_buff___2":         "sk_buff",
	} {
		if got := string(rawbtf.EssentialName([]byte(in))); got != want {
			t.Errorf("EssentialName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrintableName(t *testing.T) {
	for in, want := range map[string]string{"task_struct": "task_struct", "": "", "\a\n": `"\a\n"`, "a b": "a b", "caf\xc3\xa9": `"café"`} {
		if got := rawbtf.PrintableName([]byte(in)); got != want {
			t.Errorf("PrintableName(%q) = %s, want %s", in, got, want)
		}
	}
}
