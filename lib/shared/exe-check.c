/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "exe-check.h"

/* An ELF file without a PT_INTERP program header (64- or 32-bit). */
static bool elf_is_static(int fd) {
        unsigned char ident[EI_NIDENT];
        if (pread(fd, ident, sizeof(ident), 0) != sizeof(ident) || memcmp(ident, ELFMAG, SELFMAG) != 0)
                return false; /* a script: its interpreter is dynamic */
        if (ident[EI_CLASS] == ELFCLASS64) {
                Elf64_Ehdr eh;
                if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_phentsize != sizeof(Elf64_Phdr) ||
                    eh.e_phnum > 512)
                        return false;
                for (unsigned i = 0; i < eh.e_phnum; i++) {
                        Elf64_Phdr ph;
                        if (pread(fd, &ph, sizeof(ph), (off_t) (eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
                                return false;
                        if (ph.p_type == PT_INTERP)
                                return false;
                }
                return true;
        }
        if (ident[EI_CLASS] == ELFCLASS32) {
                Elf32_Ehdr eh;
                if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_phentsize != sizeof(Elf32_Phdr) ||
                    eh.e_phnum > 512)
                        return false;
                for (unsigned i = 0; i < eh.e_phnum; i++) {
                        Elf32_Phdr ph;
                        if (pread(fd, &ph, sizeof(ph), (off_t) (eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
                                return false;
                        if (ph.p_type == PT_INTERP)
                                return false;
                }
                return true;
        }
        return false;
}

bool exe_preload_works(const char *path, const char *name, char *reason, size_t size) {
        struct stat st;
        bool is_static;
        /* O_NONBLOCK: the path can name a FIFO its owner put there, and root
         * reads it (tcpkeepalive-bpf --auto before the service starts). */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

        if (fd < 0)
                return true;
        if (!name)
                name = path;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return true; /* not a program we can judge: the preload is tried */
        }
        is_static = elf_is_static(fd);
        close(fd);
        if (is_static) {
                snprintf(reason, size, "%s is statically linked", name);
                return false;
        }
        if (st.st_mode & (S_ISUID | S_ISGID)) {
                snprintf(reason, size, "%s is setuid/setgid", name);
                return false;
        }
        if (getxattr(path, "security.capability", NULL, 0) > 0) {
                snprintf(reason, size, "%s has file capabilities", name);
                return false;
        }
        return true;
}
