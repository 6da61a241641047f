#!/usr/bin/python3
"""Compiles the sandbox's seccomp filter into one BPF file per architecture.

Run with Debian's python3 and python3-seccomp (`/usr/bin/python3 sandbox/seccomp/generate.py`);
the .bpf files are committed so that neither is needed at run time. bubblewrap loads the file
for the host's architecture through `--seccomp FD`.

Policy: allow by default, deny (EPERM) the calls that widen the kernel attack surface or reach
other processes: debugging other processes, the kernel keyring, io_uring, BPF, perf, new
namespaces, mounts, modules and the like. clone3 answers ENOSYS so libc falls back to clone,
whose flags can be checked. Syscalls of other ABIs (i386, x32 on x86-64) kill the process:
the filter cannot check them, so they are not allowed at all.
"""
import errno
import os
import sys

import seccomp

DENIED = [
    'ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd',
    'keyctl', 'add_key', 'request_key',
    'io_uring_setup', 'io_uring_enter', 'io_uring_register',
    'bpf', 'perf_event_open', 'userfaultfd', 'fanotify_init',
    'unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'chroot', 'mount_setattr',
    'open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
    'name_to_handle_at', 'open_by_handle_at', 'lookup_dcookie',
    'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module',
    'swapon', 'swapoff', 'reboot', 'acct', 'quotactl', 'quotactl_fd', 'syslog', 'vhangup',
    'uselib', 'ustat', 'sysfs', '_sysctl', 'nfsservctl', 'iopl', 'ioperm',
    'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex',
]

CLONE_NEW_FLAGS = [
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
]

TIOCSTI = 0x5412
TIOCLINUX = 0x541C

ARCHES = {'x86_64': seccomp.Arch.X86_64, 'aarch64': seccomp.Arch.AARCH64}


def build(arch):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    if not f.exist_arch(arch):
        f.add_arch(arch)
        f.remove_arch(seccomp.Arch.NATIVE)
    deny = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            f.add_rule(deny, name)
        except (RuntimeError, ValueError):
            pass  # not a syscall on this architecture
    for flag in CLONE_NEW_FLAGS:
        f.add_rule(deny, 'clone', seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), 'clone3')
    for request in (TIOCSTI, TIOCLINUX):
        f.add_rule(deny, 'ioctl', seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
    return f


def main():
    out_dir = os.path.dirname(os.path.abspath(__file__))
    for name, arch in ARCHES.items():
        path = os.path.join(out_dir, name + '.bpf')
        with open(path, 'wb') as out:
            build(arch).export_bpf(out)
        print(path, os.path.getsize(path), file=sys.stderr)


if __name__ == '__main__':
    main()
