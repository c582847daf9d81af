/* Example libbpf loader: picks the running kernel's BTF from a btftool
 * bundle (.tar.gz) embedded in the program, by uname -r and uname -m through
 * the bundle's index.json, and gives it to libbpf as btf_custom_path.
 * Kernels with their own BTF (/sys/kernel/btf/vmlinux) do not need it; set
 * FORCE_BUNDLE=1 to use the bundle anyway.
 *
 *   btftool gen min_core_btf btfhub-archive min_core_btfs.tar.gz prog.bpf.o
 *   ld -r -b binary -z noexecstack -o bundle.o min_core_btfs.tar.gz
 *   cc -O2 -o loader loader.c bundle.o -lbpf -lz
 *   sudo ./loader prog.bpf.o
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <zlib.h>
#include <bpf/libbpf.h>

/* The bundle, linked in with e.g. `ld -r -b binary min_core_btfs.tar.gz`. */
extern const unsigned char _binary_min_core_btfs_tar_gz_start[];
extern const unsigned char _binary_min_core_btfs_tar_gz_end[];

/* gunzip decompresses a whole .tar.gz held in memory. */
static unsigned char *gunzip(const unsigned char *in, size_t n, size_t *outn)
{
	z_stream s = { .next_in = (unsigned char *)in, .avail_in = n };
	size_t cap = 1 << 20;
	unsigned char *out = malloc(cap);
	int rc;

	if (!out || inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return NULL;
	do {
		if (s.total_out == cap && !(out = realloc(out, cap *= 2)))
			return NULL;
		s.next_out = out + s.total_out;
		s.avail_out = cap - s.total_out;
		rc = inflate(&s, Z_NO_FLUSH);
	} while (rc == Z_OK);
	inflateEnd(&s);
	*outn = s.total_out;
	return rc == Z_STREAM_END ? out : NULL;
}

/* tar_find returns the content of member name ("./index.json"). Bundle
 * members are plain ustar files (paths of 100 bytes or more use a PAX
 * header, not handled here). */
static const char *tar_find(const unsigned char *tar, size_t n, const char *name, size_t *size)
{
	for (size_t off = 0; off + 512 <= n && tar[off]; ) {
		size_t sz = strtoul((const char *)tar + off + 124, NULL, 8);
		if (strncmp((const char *)tar + off, name, 100) == 0) {
			*size = sz;
			return (const char *)tar + off + 512;
		}
		off += 512 + (sz + 511) / 512 * 512;
	}
	return NULL;
}

/* index_path finds in index.json the path of the kernel with this release
 * and architecture (btfhub spells aarch64 "arm64"). */
static int index_path(const char *idx, size_t n, const char *release, const char *arch, char path[256])
{
	char want[256], *json = strndup(idx, n), *p = json;
	int found = -1;

	snprintf(want, sizeof(want), "\"release\": \"%s\"", release);
	while (found && (p = strstr(p, want))) {
		char *obj = p, *end = strchr(p, '}'), *v;
		while (obj > json && *obj != '{')
			obj--;
		*end = 0;
		v = strstr(obj, "\"arch\": \"");
		if (v && strncmp(v + 9, arch, strlen(arch)) == 0 && v[9 + strlen(arch)] == '"' &&
		    (v = strstr(obj, "\"path\": \"")) && sscanf(v + 9, "%255[^\"]", path) == 1)
			found = 0;
		p = end + 1;
	}
	free(json);
	return found;
}

/* bundle_btf writes the running kernel's BTF from the embedded bundle to
 * a memfd and returns its path (/proc/self/fd/N), or NULL. */
static const char *bundle_btf(void)
{
	static char fdpath[64];
	char member[512], path[256];
	struct utsname u;
	size_t n, isz, bsz;
	const char *idx, *btf;
	unsigned char *tar;
	int fd;

	uname(&u);
	const char *arch = strcmp(u.machine, "aarch64") == 0 ? "arm64" : u.machine;
	tar = gunzip(_binary_min_core_btfs_tar_gz_start,
		     _binary_min_core_btfs_tar_gz_end - _binary_min_core_btfs_tar_gz_start, &n);
	if (!tar || !(idx = tar_find(tar, n, "./index.json", &isz)) ||
	    index_path(idx, isz, u.release, arch, path)) {
		fprintf(stderr, "no BTF for %s %s in the bundle\n", u.release, u.machine);
		return NULL;
	}
	snprintf(member, sizeof(member), "./%s", path);
	if (!(btf = tar_find(tar, n, member, &bsz)) || (fd = memfd_create("btf", 0)) < 0 ||
	    write(fd, btf, bsz) != (ssize_t)bsz)
		return NULL;
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	fprintf(stderr, "using %s from the bundle (%zu bytes)\n", path, bsz);
	return fdpath;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;

	if (argc != 2)
		return 2;
	/* Only kernels without their own BTF need the bundle. */
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0 || getenv("FORCE_BUNDLE"))
		if (!(opts.btf_custom_path = bundle_btf()))
			return 1;
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "failed to load %s\n", argv[1]);
		return 1;
	}
	printf("loaded %s\n", argv[1]);
	bpf_object__close(obj);
	return 0;
}
