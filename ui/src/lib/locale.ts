// WebKitGTK reports the POSIX locale "C" as navigator.language when LANG=C,
// which Intl rejects (RangeError) and chart code formats numbers with at
// load time. Fall back to a valid tag so the app still starts. Imported
// first by main.ts, before any module that formats.
try {
  new Intl.NumberFormat(navigator.language);
} catch {
  Object.defineProperty(navigator, "language", { get: () => "en-US" });
  Object.defineProperty(navigator, "languages", { get: () => ["en-US"] });
}
