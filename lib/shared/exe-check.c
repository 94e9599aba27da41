/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "exe-check.h"
#include "trusted-path.h"

/*
 * The file is root's to read but may be the service user's to write: every
 * number in it is checked against the file's size before it is used as an
 * offset or a length, every loop is bounded by the limits below, and what
 * is malformed or over a limit is simply not recognized (never an error).
 */
#define EXE_MAX_PHDRS 512       /* program headers looked at */
#define EXE_MAX_SHDRS 4096      /* section headers looked at (256 KiB, 64-bit) */
#define EXE_MAX_SHSTRTAB 65536  /* section names read */
#define EXE_MAX_NOTE 4096       /* bytes of a PT_NOTE segment read */

/* What the ELF headers say, for both classes. */
struct elf_hdr {
        bool is64;
        uint64_t phoff, shoff;
        unsigned phnum, shnum, shstrndx;
};

/* A read of len bytes at off that lies wholly inside a file of size bytes. */
static bool read_at(int fd, uint64_t size, void *buf, size_t len, uint64_t off) {
        if (off > size || len > size - off)
                return false;
        return pread(fd, buf, len, (off_t) off) == (ssize_t) len;
}

static bool read_ehdr(int fd, uint64_t size, struct elf_hdr *h) {
        unsigned char ident[EI_NIDENT];

        if (!read_at(fd, size, ident, sizeof(ident), 0) || memcmp(ident, ELFMAG, SELFMAG) != 0)
                return false; /* a script: its interpreter is dynamic */
#if __BYTE_ORDER == __LITTLE_ENDIAN
        if (ident[EI_DATA] != ELFDATA2LSB)
#else
        if (ident[EI_DATA] != ELFDATA2MSB)
#endif
                return false; /* not for this machine: it does not run here */
        if (ident[EI_CLASS] == ELFCLASS64) {
                Elf64_Ehdr eh;
                if (!read_at(fd, size, &eh, sizeof(eh), 0) || eh.e_phentsize != sizeof(Elf64_Phdr))
                        return false;
                *h = (struct elf_hdr) { true, eh.e_phoff, eh.e_shoff, eh.e_phnum, eh.e_shnum, eh.e_shstrndx };
                /* Section headers are optional: unusable ones are ignored. */
                if (eh.e_shentsize != sizeof(Elf64_Shdr))
                        h->shnum = 0;
                return true;
        }
        if (ident[EI_CLASS] == ELFCLASS32) {
                Elf32_Ehdr eh;
                if (!read_at(fd, size, &eh, sizeof(eh), 0) || eh.e_phentsize != sizeof(Elf32_Phdr))
                        return false;
                *h = (struct elf_hdr) { false, eh.e_phoff, eh.e_shoff, eh.e_phnum, eh.e_shnum, eh.e_shstrndx };
                if (eh.e_shentsize != sizeof(Elf32_Shdr))
                        h->shnum = 0;
                return true;
        }
        return false;
}

/* Program header i: its type, file offset, file size and alignment. */
static bool read_phdr(int fd, uint64_t size, const struct elf_hdr *h, unsigned i, uint32_t *type, uint64_t *off,
                      uint64_t *len, uint64_t *align) {
        if (h->is64) {
                Elf64_Phdr ph;
                if (h->phoff > UINT64_MAX - (uint64_t) i * sizeof(ph) ||
                    !read_at(fd, size, &ph, sizeof(ph), h->phoff + (uint64_t) i * sizeof(ph)))
                        return false;
                *type = ph.p_type, *off = ph.p_offset, *len = ph.p_filesz, *align = ph.p_align;
        } else {
                Elf32_Phdr ph;
                if (h->phoff > UINT64_MAX - (uint64_t) i * sizeof(ph) ||
                    !read_at(fd, size, &ph, sizeof(ph), h->phoff + (uint64_t) i * sizeof(ph)))
                        return false;
                *type = ph.p_type, *off = ph.p_offset, *len = ph.p_filesz, *align = ph.p_align;
        }
        return true;
}

/* A note named "Go" of type 4 (the Go linker's build ID) in a PT_NOTE
 * segment's bytes: found even when the section headers are stripped. */
static bool notes_have_go_buildid(const unsigned char *buf, size_t len, uint64_t align) {
        size_t a = align == 8 ? 8 : 4, pos = 0;

        while (len - pos >= 12) { /* every turn advances pos by 12 at least */
                uint32_t namesz, descsz, type;
                size_t name_end, desc_end;
                memcpy(&namesz, buf + pos, 4);
                memcpy(&descsz, buf + pos + 4, 4);
                memcpy(&type, buf + pos + 8, 4);
                pos += 12;
                if (namesz > len - pos)
                        return false;
                if (type == 4 && namesz == 3 && memcmp(buf + pos, "Go", 3) == 0)
                        return true;
                name_end = pos + namesz;
                name_end += (a - name_end % a) % a;
                if (name_end > len || descsz > len - name_end)
                        return false;
                desc_end = name_end + descsz;
                desc_end += (a - desc_end % a) % a;
                if (desc_end > len)
                        return false;
                pos = desc_end;
        }
        return false;
}

/* Section header i of the table read into tab: its name, file offset and size. */
static void shdr_at(const struct elf_hdr *h, const unsigned char *tab, unsigned i, uint32_t *name, uint64_t *off,
                    uint64_t *len, uint32_t *link) {
        if (h->is64) {
                Elf64_Shdr sh;
                memcpy(&sh, tab + (size_t) i * sizeof(sh), sizeof(sh));
                *name = sh.sh_name, *off = sh.sh_offset, *len = sh.sh_size, *link = sh.sh_link;
        } else {
                Elf32_Shdr sh;
                memcpy(&sh, tab + (size_t) i * sizeof(sh), sizeof(sh));
                *name = sh.sh_name, *off = sh.sh_offset, *len = sh.sh_size, *link = sh.sh_link;
        }
}

/* A section named .go.buildinfo (the Go linker's, since Go 1.13) or
 * .note.go.buildid, by the section header string table. */
static bool sections_name_go(int fd, uint64_t size, const struct elf_hdr *h) {
        static const char *const go_sections[] = { ".go.buildinfo", ".note.go.buildid" };
        size_t entsize = h->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr), names_len;
        unsigned char *tab = NULL;
        char *names = NULL;
        unsigned shnum = h->shnum, strndx = h->shstrndx;
        uint32_t name, link;
        uint64_t off, len;
        bool found = false;

        if (shnum == 0 || shnum > EXE_MAX_SHDRS || !(tab = malloc((size_t) shnum * entsize)) ||
            !read_at(fd, size, tab, (size_t) shnum * entsize, h->shoff))
                goto out;
        if (strndx == SHN_XINDEX) { /* the real index is in section 0's sh_link */
                shdr_at(h, tab, 0, &name, &off, &len, &link);
                strndx = link;
        }
        if (strndx == SHN_UNDEF || strndx >= shnum)
                goto out;
        shdr_at(h, tab, strndx, &name, &off, &len, &link);
        if (len == 0)
                goto out;
        /* Names past the limit are not seen. */
        names_len = len > EXE_MAX_SHSTRTAB ? EXE_MAX_SHSTRTAB : (size_t) len;
        if (!(names = malloc(names_len)) || !read_at(fd, size, names, names_len, off))
                goto out;
        for (unsigned i = 1; i < shnum && !found; i++) {
                shdr_at(h, tab, i, &name, &off, &len, &link);
                if (name >= names_len)
                        continue;
                for (size_t j = 0; j < sizeof(go_sections) / sizeof(go_sections[0]); j++) {
                        size_t n = strlen(go_sections[j]) + 1; /* with its NUL, inside the table */
                        if (n <= names_len - name && memcmp(names + name, go_sections[j], n) == 0)
                                found = true;
                }
        }
out:
        free(tab);
        free(names);
        return found;
}

/* What the ELF headers tell: is_static (no PT_INTERP program header) and
 * is_go (built by the Go linker). Both false for what is not an ELF file
 * for this machine, or is malformed. */
static void elf_inspect(int fd, bool *is_static, bool *is_go) {
        struct elf_hdr h;
        struct stat st;
        uint64_t size;
        bool interp = false, headers_ok = true;

        *is_static = *is_go = false;
        if (fstat(fd, &st) < 0 || st.st_size <= 0)
                return;
        size = (uint64_t) st.st_size;
        if (!read_ehdr(fd, size, &h))
                return;
        if (h.phnum > EXE_MAX_PHDRS) /* PN_XNUM among them: not judged static */
                headers_ok = false;
        for (unsigned i = 0; headers_ok && i < h.phnum; i++) {
                uint32_t type;
                uint64_t off, len, align;
                if (!read_phdr(fd, size, &h, i, &type, &off, &len, &align)) {
                        headers_ok = false;
                        break;
                }
                if (type == PT_INTERP)
                        interp = true;
                else if (type == PT_NOTE && !*is_go && len > 0 && len <= EXE_MAX_NOTE) {
                        unsigned char buf[EXE_MAX_NOTE];
                        if (read_at(fd, size, buf, (size_t) len, off) && notes_have_go_buildid(buf, (size_t) len, align))
                                *is_go = true;
                }
        }
        *is_static = headers_ok && !interp;
        if (!*is_go)
                *is_go = sections_name_go(fd, size, &h);
}

bool exe_preload_works(const char *path, const char *name, char *reason, size_t size) {
        struct stat st;
        bool is_static, is_go, has_caps;
        /* The path can name a FIFO or a device its owner put there, and root
         * reads it (tcpkeepalive-bpf --auto before the service starts): O_PATH
         * opens nothing; only a regular file is then opened, the same inode. */
        int fd, path_fd = open(path, O_PATH | O_CLOEXEC);

        if (path_fd < 0)
                return true;
        if (!name)
                name = path;
        if (fstat(path_fd, &st) < 0 || !S_ISREG(st.st_mode) || (fd = trusted_path_reopen(path_fd)) < 0) {
                close(path_fd);
                return true; /* not a program we can judge: the preload is tried */
        }
        close(path_fd);
        elf_inspect(fd, &is_static, &is_go);
        has_caps = fgetxattr(fd, "security.capability", NULL, 0) > 0;
        close(fd);
        /* Go makes its socket calls with raw system calls, dynamically
         * linked or not: the preloaded library is mapped but never called. */
        if (is_go) {
                snprintf(reason, size, "%s: Go runtime: its sockets do not go through libc", name);
                return false;
        }
        if (is_static) {
                snprintf(reason, size, "%s is statically linked", name);
                return false;
        }
        if (st.st_mode & (S_ISUID | S_ISGID)) {
                snprintf(reason, size, "%s is setuid/setgid", name);
                return false;
        }
        if (has_caps) {
                snprintf(reason, size, "%s has file capabilities", name);
                return false;
        }
        return true;
}
