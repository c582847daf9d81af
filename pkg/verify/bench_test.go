package verify_test

import (
	"testing"

	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/rawbtf"
	"github.com/btftool/btftool/pkg/verify"
)

// BenchmarkCheck compares verification with generation for one kernel and
// the test objects (with libbpf-tools' when extracted), from raw kernel
// BTF bytes and parsed objects on.
func BenchmarkCheck(b *testing.B) {
	fx := getFixture(b)
	objs := fx.objs
	if more, err := openObjects("../../testdata/libbpf-tools/*.bpf.o"); err == nil {
		objs = append(objs[:len(objs):len(objs)], more...)
	}
	min, err := minimize(fx.full, objs)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d objects, full BTF %d bytes, minimized %d bytes", len(objs), len(fx.full), len(min))
	b.Run("gen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k, err := rawbtf.Parse(fx.full)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := btfgen.NewPlan(objs).Minimize(k); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := verify.Check(fx.full, min, objs, verify.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new-plan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			verify.NewPlan(objs)
		}
	})
	plan := verify.NewPlan(objs)
	b.Run("plan-check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k, err := verify.NewKernel(fx.full)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := plan.Check(k, min, verify.Options{NoKernelBTF: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	k, err := verify.NewKernel(fx.full)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("plan-check-prepared-kernel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := plan.Check(k, min, verify.Options{NoKernelBTF: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
