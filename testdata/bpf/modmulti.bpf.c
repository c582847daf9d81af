// SPDX-License-Identifier: GPL-2.0
/* modmulti: types that several kernel modules define (and vmlinux does
 * not), which libbpf takes as candidates together. Checked against the
 * module BTF of Debian's 6.1 and 6.12 amd64 kernels:
 *
 * - cmd_ctrl_node, defined alike by libertas_sdio and usb8xxx: two
 *   candidates that agree;
 * - asus_rfkill, defined by asus-wmi and asus-laptop with rfkill at the
 *   same offset: two candidates that agree on it;
 * - urb_priv, defined differently by ohci-hcd (ed, length, ...) and
 *   uhci-hcd (node, urb, ...): the read of length matches ohci-hcd's
 *   only, libbpf drops uhci-hcd's from the candidates of urb_priv, and the
 *   read of urb that follows then matches nothing (poisoned) although
 *   uhci-hcd has it. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct cmd_ctrl_node {
	int result;
	u16 cmdwaitqwoken;
} __pai;

struct asus_rfkill {
	void *rfkill;
} __pai;

struct urb_priv {
	u16 length;
	void *urb;
} __pai;

char LICENSE[] SEC("license") = "GPL";

u64 seen[4];

SEC("kprobe/lbs_complete_command")
int BPF_KPROBE(lbs_complete, void *priv, struct cmd_ctrl_node *cmd, int result)
{
	seen[0] = BPF_CORE_READ(cmd, result) + BPF_CORE_READ(cmd, cmdwaitqwoken);
	return 0;
}

SEC("kprobe/asus_rfkill_set")
int BPF_KPROBE(rfkill_set, struct asus_rfkill *data)
{
	seen[1] = (u64)BPF_CORE_READ(data, rfkill);
	return 0;
}

SEC("kprobe/usb_hcd_giveback_urb")
int BPF_KPROBE(giveback, void *hcd, struct urb_priv *priv)
{
	seen[2] = BPF_CORE_READ(priv, length);
	seen[3] = (u64)BPF_CORE_READ(priv, urb);
	return 0;
}
