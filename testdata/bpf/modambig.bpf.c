// SPDX-License-Identifier: GPL-2.0
/* modambig: a field of a type that two kernel modules define with the
 * field at different offsets: asus_rfkill.asus is at offset 0 in
 * asus-wmi and 16 in asus-laptop (Debian 6.1 and 6.12 amd64). With both
 * modules' BTF, libbpf fails the load ("field offset ambiguity"); with one
 * of them it relocates. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct asus_rfkill {
	void *asus;
} __pai;

char LICENSE[] SEC("license") = "GPL";

u64 seen;

SEC("kprobe/asus_rfkill_set")
int BPF_KPROBE(rfkill_owner, struct asus_rfkill *data)
{
	seen = (u64)BPF_CORE_READ(data, asus);
	return 0;
}
