//! What a piece of content is: language and MIME type by extension, binary detection, lines.

/// Facts recorded with every archived file version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentInfo {
    pub language: Option<&'static str>,
    pub mime: &'static str,
    /// Line count for text; `None` for binary content.
    pub lines: Option<u64>,
    pub binary: bool,
}

/// Binary when a NUL byte appears in the first 8000 bytes (git's own heuristic).
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0)
}

/// Describe `bytes` found at `path`.
pub fn describe(path: &[u8], bytes: &[u8]) -> ContentInfo {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let (language, mime) = by_name(&name, ext);
    let binary = is_binary(bytes);
    let lines = (!binary).then(|| {
        let n = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        n + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
    });
    let mime = match (mime, binary) {
        ("text/plain", true) => "application/octet-stream",
        (m, _) => m,
    };
    ContentInfo {
        language,
        mime,
        lines,
        binary,
    }
}

fn by_name(name: &str, ext: &str) -> (Option<&'static str>, &'static str) {
    match name {
        "makefile" | "gnumakefile" => return (Some("make"), "text/x-makefile"),
        "dockerfile" | "containerfile" => return (Some("dockerfile"), "text/plain"),
        _ => {}
    }
    match ext {
        "py" | "pyi" => (Some("python"), "text/x-python"),
        "rs" => (Some("rust"), "text/x-rust"),
        "go" => (Some("go"), "text/x-go"),
        "java" => (Some("java"), "text/x-java"),
        "js" | "mjs" | "cjs" | "jsx" => (Some("javascript"), "text/javascript"),
        "ts" | "mts" | "cts" | "tsx" => (Some("typescript"), "text/x-typescript"),
        "c" | "h" => (Some("c"), "text/x-c"),
        "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => (Some("cpp"), "text/x-c++"),
        "cs" => (Some("csharp"), "text/x-csharp"),
        "rb" => (Some("ruby"), "text/x-ruby"),
        "php" => (Some("php"), "application/x-httpd-php"),
        "kt" | "kts" => (Some("kotlin"), "text/x-kotlin"),
        "swift" => (Some("swift"), "text/x-swift"),
        "scala" => (Some("scala"), "text/x-scala"),
        "sh" | "bash" | "zsh" => (Some("shell"), "application/x-sh"),
        "sql" => (Some("sql"), "application/sql"),
        "lua" => (Some("lua"), "text/x-lua"),
        "hs" => (Some("haskell"), "text/x-haskell"),
        "clj" | "cljs" | "cljc" => (Some("clojure"), "text/x-clojure"),
        "el" | "lisp" => (Some("lisp"), "text/x-lisp"),
        "md" | "markdown" => (Some("markdown"), "text/markdown"),
        "html" | "htm" => (Some("html"), "text/html"),
        "css" => (Some("css"), "text/css"),
        "xml" => (Some("xml"), "application/xml"),
        "svg" => (Some("svg"), "image/svg+xml"),
        "json" => (Some("json"), "application/json"),
        "yaml" | "yml" => (Some("yaml"), "application/yaml"),
        "toml" => (Some("toml"), "application/toml"),
        "ini" | "cfg" | "conf" => (Some("ini"), "text/plain"),
        "txt" | "log" => (None, "text/plain"),
        "png" => (None, "image/png"),
        "jpg" | "jpeg" => (None, "image/jpeg"),
        "gif" => (None, "image/gif"),
        "pdf" => (None, "application/pdf"),
        "zip" => (None, "application/zip"),
        "gz" => (None, "application/gzip"),
        _ => (None, "text/plain"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_text_and_binary() {
        let i = describe(b"src/a.py", b"a\nb\nc");
        assert_eq!(
            (i.language, i.mime, i.lines, i.binary),
            (Some("python"), "text/x-python", Some(3), false)
        );
        assert_eq!(describe(b"a.txt", b"").lines, Some(0));
        assert_eq!(describe(b"a.txt", b"x\n").lines, Some(1));
        let b = describe(b"blob.bin", b"\x00\x01\x02");
        assert!(b.binary);
        assert_eq!((b.lines, b.mime), (None, "application/octet-stream"));
        assert_eq!(describe(b"Makefile", b"all:\n").language, Some("make"));
    }
}
