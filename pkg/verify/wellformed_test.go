package verify_test

import (
	"errors"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
	"github.com/btftool/btftool/pkg/verify"
)

func TestCheckBadMinimized(t *testing.T) {
	fx := getFixture(t)
	// A type referring past the last type: complete, but malformed.
	danglingRef := func() []byte {
		b := btftest.New()
		b.Ptr(7)
		return b.Bytes()
	}
	tests := []struct {
		name        string
		min         []byte
		wantErr     error // from Check
		wantBadForm string
	}{
		{name: "truncated", min: fx.min[:len(fx.min)/2], wantErr: verify.ErrTruncated},
		{name: "header only", min: fx.min[:10], wantErr: verify.ErrTruncated},
		{name: "not BTF", min: []byte("hello, world, this is not BTF"), wantErr: rawbtf.ErrNotBTF},
		{name: "empty", min: nil, wantErr: rawbtf.ErrNotBTF},
		{name: "dangling reference", min: danglingRef(), wantBadForm: "rawbtf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := verify.Check(fx.full, tt.min, fx.objs, verify.Options{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.IsWellFormed() || rep.Equivalent() {
				t.Fatalf("well-formed: %+v", rep.WellFormed)
			}
			for _, c := range rep.WellFormed {
				if c.Name == tt.wantBadForm && c.Status != "failed" {
					t.Errorf("%s check: %s, want failed", c.Name, c.Status)
				}
			}
		})
	}
}
