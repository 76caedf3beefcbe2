import { arch } from 'node:process';

/**
 * A seccomp-BPF program for bubblewrap's `--seccomp FD`, assembled here (no libseccomp needed).
 * It is a deny list on top of the namespaces, the unprivileged uid and the dropped capabilities:
 * it shrinks the kernel surface a sandboxed command can reach (debugging other processes, kernel
 * modules and keyrings, eBPF, perf, new namespaces, the new mount API, handle-based opens).
 * Denied calls fail with EPERM; a call from a foreign ABI (x32, i386) kills the process, so the
 * list cannot be side-stepped by switching ABI.
 *
 * Only x86-64 is assembled; on other architectures `seccompProgram()` returns undefined and the
 * result reports seccomp as not enforced.
 */

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;

/** x86-64 syscall numbers denied with EPERM. */
const DENIED_X86_64: Readonly<Record<string, number>> = {
  ptrace: 101,
  syslog: 103,
  vhangup: 153,
  pivot_root: 155,
  acct: 163,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  lookup_dcookie: 212,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  fanotify_init: 300,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
  // io_uring bypasses this filter for the operations it queues and has been a rich source of
  // kernel exploits; libuv and Python fall back to ordinary syscalls when it fails.
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  uselib: 134,
  kcmp: 312,
  pidfd_getfd: 438,
  process_madvise: 440,
};

const CLONE = 56;
const CLONE3 = 435;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

// struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 i (low word first on little endian).
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0_LO = 16;

// Classic BPF opcodes.
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

type Target = number | 'next' | 'allow' | 'deny' | 'kill' | 'enosys' | 'clone';
interface Insn {
  code: number;
  jt: Target;
  jf: Target;
  k: number;
  label?: string;
}

/** The names of the denied syscalls, for docs and the result's description. */
export const DENIED_SYSCALLS: readonly string[] = [
  ...Object.keys(DENIED_X86_64),
  'clone(namespaces)',
  'clone3',
];

/** The filter as bytes (struct sock_filter[]), or undefined on an architecture not assembled here. */
export function seccompProgram(): Buffer | undefined {
  if (arch !== 'x64') return undefined;
  const insns: Insn[] = [];
  const op = (code: number, k: number, jt: Target = 'next', jf: Target = 'next', label?: string) =>
    insns.push({ code, k, jt, jf, ...(label ? { label } : {}) });

  op(LD_W_ABS, OFF_ARCH);
  op(JEQ_K, AUDIT_ARCH_X86_64, 'next', 'kill');
  op(LD_W_ABS, OFF_NR);
  op(JGE_K, X32_SYSCALL_BIT, 'kill', 'next');
  for (const nr of Object.values(DENIED_X86_64)) op(JEQ_K, nr, 'deny', 'next');
  op(JEQ_K, CLONE3, 'enosys', 'next'); // glibc falls back to clone(), whose flags are checked below
  op(JEQ_K, CLONE, 'clone', 'allow');
  op(LD_W_ABS, OFF_ARG0_LO, 'next', 'next', 'clone');
  op(JSET_K, CLONE_NAMESPACE_FLAGS, 'deny', 'allow');
  op(RET_K, RET_ALLOW, 'next', 'next', 'allow');
  op(RET_K, (RET_ERRNO | EPERM) >>> 0, 'next', 'next', 'deny');
  op(RET_K, (RET_ERRNO | ENOSYS) >>> 0, 'next', 'next', 'enosys');
  op(RET_K, RET_KILL_PROCESS, 'next', 'next', 'kill');

  const at = new Map<string, number>();
  insns.forEach((insn, i) => {
    if (insn.label) at.set(insn.label, i);
  });
  const rel = (from: number, target: Target): number => {
    if (target === 'next') return 0;
    const to = typeof target === 'number' ? target : at.get(target);
    if (to === undefined) throw new Error(`seccomp: no label ${String(target)}`);
    const offset = to - from - 1;
    // INVARIANT: classic BPF jumps are forward only and fit in one byte.
    if (offset < 0 || offset > 255) throw new Error(`seccomp: jump from ${from} to ${to} out of range`);
    return offset;
  };
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(rel(i, insn.jt), i * 8 + 2);
    out.writeUInt8(rel(i, insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}
