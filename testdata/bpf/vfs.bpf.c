// SPDX-License-Identifier: GPL-2.0
/* vfs: filetop-like read/write accounting. Covers long nested chains through
 * embedded structs and pointers (file->f_path.dentry->d_name.name,
 * dentry->d_parent->d_name.len where qstr.len lives in an anonymous struct in
 * an anonymous union), inode fields, and CO-RE relocations inside a static
 * non-inlined subprogram in .text that libbpf appends to both programs. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct file_id {
	u64 ino;
	u32 tgid;
	u32 rw;
};

struct file_stat {
	u64 bytes;
	u64 calls;
	u64 size;
	u32 name_len;
	u32 parent_len;
	u16 mode;
	char name[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct file_id);
	__type(value, struct file_stat);
} entries SEC(".maps");

static struct file_stat zero_stat;

/* deliberately out of line: its relocations live in the .text section */
static __noinline int record_file(struct file *file, u64 bytes, u32 rw)
{
	struct file_id id = {};
	struct file_stat *st;
	struct dentry *dentry;
	const unsigned char *name;

	if (!file)
		return 0;
	id.ino = BPF_CORE_READ(file, f_inode, i_ino);
	id.tgid = bpf_get_current_pid_tgid() >> 32;
	id.rw = rw;
	st = bpf_map_lookup_elem(&entries, &id);
	if (!st) {
		bpf_map_update_elem(&entries, &id, &zero_stat, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&entries, &id);
		if (!st)
			return 0;
	}
	st->bytes += bytes;
	st->calls++;
	st->size = BPF_CORE_READ(file, f_inode, i_size);
	st->mode = BPF_CORE_READ(file, f_inode, i_mode);

	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(st->name, sizeof(st->name), name);
	dentry = BPF_CORE_READ(file, f_path.dentry);
	st->name_len = BPF_CORE_READ(dentry, d_name.len);
	st->parent_len = BPF_CORE_READ(dentry, d_parent, d_name.len);
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(vfs_read_entry, struct file *file, char *buf, size_t count)
{
	return record_file(file, count, 0);
}

SEC("kprobe/vfs_write")
int BPF_KPROBE(vfs_write_entry, struct file *file, const char *buf, size_t count)
{
	/* only regular files: S_IFREG */
	if ((BPF_CORE_READ(file, f_inode, i_mode) & 0170000) != 0100000)
		return 0;
	return record_file(file, count, 1);
}

char LICENSE[] SEC("license") = "GPL";
