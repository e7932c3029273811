//! Build script: link GCC's unwinder statically on glibc Linux.
//!
//! Rust's standard library links the unwinder as the shared `libgcc_s.so.1` on
//! `*-linux-gnu`. Loading it costs every process a shared object, and its constructor
//! (`__cpu_indicator_init`) runs about a dozen `cpuid` instructions, each a trap to the
//! hypervisor on a virtual machine (about 7 µs here). For a one-file restore that is start-up
//! and nothing else (docs/commands.md, restore timings). Naming the static unwinder
//! (`libgcc_eh.a`, the one `gcc -static-libgcc` uses) ahead of the standard library resolves
//! the unwinder symbols from it, and the linker's `--as-needed` then drops `libgcc_s`.
//! Panics still unwind and backtraces still resolve (tests/cli: the exit-3 panic test).
//!
//! Skipped where it does not apply: other targets, `crt-static` builds (the standard library
//! links `libgcc_eh` itself) and fuzzing builds (libFuzzer's C++ runtime brings `libgcc_s`
//! anyway, and one unwinder is simpler than two).

// A build script talks to cargo through its standard output.
#![allow(clippy::disallowed_macros)]

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let gnu_linux = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let crt_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    let fuzzing = std::env::var_os("CARGO_CFG_FUZZING").is_some();
    if gnu_linux && !crt_static && !fuzzing {
        // Not bundled into the rlib: the final link passes `-lgcc_eh`, which the C compiler
        // driver finds in its own library directory.
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
}
