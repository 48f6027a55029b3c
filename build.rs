//! On Windows, puts lanchat's icon and version into `lanchat.exe` (what
//! Explorer, the taskbar and "Installed apps" show). Elsewhere it does
//! nothing. Cross-built from Linux, the resource compiler is mingw's
//! `x86_64-w64-mingw32-windres`.

fn main() {
    println!("cargo:rerun-if-changed=packaging/windows/lanchat.ico");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let mut resource = winresource::WindowsResource::new();
    resource
        .set_icon("packaging/windows/lanchat.ico")
        .set("ProductName", "lanchat")
        .set("FileDescription", "lanchat, a chat for the office LAN");
    if let Err(err) = resource.compile() {
        // An exe without its icon still runs: say so, do not fail.
        println!("cargo:warning=lanchat.exe gets no icon: {err}");
    }
}
