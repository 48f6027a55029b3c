#!/usr/bin/env python3
"""A minimal StatusNotifierWatcher (and host) for scripts/desktop_live_check.sh.

Owns org.kde.StatusNotifierWatcher on the session bus, says a host is there,
and when an item registers: reads its properties back three times (matching the
timeline of `desktop_probe tray`), saves the 64 px pixmap of each as PNG in
$OUT_DIR, then calls Activate and clicks the last menu item (Quit).
Needs Debian python3-dbus and python3-gi; run it with /usr/bin/python3.
"""
import os
import dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib

# SNI_PASSIVE=1: only be a tray (for scripts/screenshot.sh): no dumps, no
# clicks, no time limit.
PASSIVE = os.environ.get("SNI_PASSIVE") == "1"
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
IFACE = "org.kde.StatusNotifierWatcher"
items = []

def log(*a):
    print("[watcher]", *a, flush=True)

class Watcher(dbus.service.Object):
    def __init__(self):
        super().__init__(bus, "/StatusNotifierWatcher")
    @dbus.service.method(IFACE, in_signature="s", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        log("RegisterStatusNotifierItem", service, "from", sender)
        # The spec allows a bus name (path /StatusNotifierItem) or an object path.
        if service.startswith("/"):
            name, path = sender, service
        else:
            name, path = service, "/StatusNotifierItem"
        items.append((name, path))
        self.StatusNotifierItemRegistered(name + path)
        if PASSIVE:
            return
        GLib.timeout_add(500, lambda: dump("at start", name, path) and False)
        GLib.timeout_add(2300, lambda: dump("after set_unread(3,false)", name, path) and False)
        GLib.timeout_add(4300, lambda: dump("after set_labels(ru)+set_unread(5,true)", name, path) and False)
        GLib.timeout_add(4600, lambda: poke(name, path) and False)
    @dbus.service.method(IFACE, in_signature="s")
    def RegisterStatusNotifierHost(self, service):
        pass
    @dbus.service.signal(IFACE, signature="s")
    def StatusNotifierItemRegistered(self, s):
        pass
    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        return self.GetAll(iface)[prop]
    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {"RegisteredStatusNotifierItems": dbus.Array([n + p for n, p in items], signature="s"),
                "IsStatusNotifierHostRegistered": dbus.Boolean(True),
                "ProtocolVersion": dbus.Int32(0)}

def save_png(path, s, argb):
    import struct, zlib
    rgba = bytearray()
    for i in range(0, len(argb), 4):
        rgba += bytes((argb[i+1], argb[i+2], argb[i+3], argb[i]))
    raw = b"".join(b"\0" + bytes(rgba[y*s*4:(y+1)*s*4]) for y in range(s))
    def ch(k, d): return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + ch(b"IHDR", struct.pack(">IIBBBBB", s, s, 8, 6, 0, 0, 0)) + ch(b"IDAT", zlib.compress(raw)) + ch(b"IEND", b""))

def dump(when, name, path):
    obj = bus.get_object(name, path)
    props = obj.GetAll("org.kde.StatusNotifierItem", dbus_interface=dbus.PROPERTIES_IFACE)
    pix = props["IconPixmap"]
    sizes = [(int(w), int(h), len(d)) for w, h, d in pix]
    # pixel near the top-right corner of the 22 px icon (where the badge goes)
    w, h, d = pix[0]
    x, y = int(w) - 5, 5
    i = (y * int(w) + x) * 4
    argb = [int(b) for b in d[i:i + 4]]
    w64, h64, d64 = [p for p in pix if int(p[0]) == 64][0]
    png = "%s.png" % when.split("(")[0].strip().replace(" ", "_")
    save_png(os.path.join(os.environ.get("OUT_DIR", "."), png), int(w64), bytes(int(b) for b in d64))
    tt = props["ToolTip"]
    menu = bus.get_object(name, str(props["Menu"]))
    _, layout = menu.GetLayout(0, -1, ["label", "type"], dbus_interface="com.canonical.dbusmenu")
    labels = [(int(c[0]), str(c[1].get("label", c[1].get("type", "")))) for c in layout[2]]
    log(when, "| Id", props["Id"], "| Title", props["Title"], "| Status", props["Status"],
        "| Category", props["Category"], "| ToolTip title", repr(str(tt[2])),
        "| pixmaps", sizes, "| 22px pixel(17,5) ARGB", argb, "| menu", labels)
    return True

def poke(name, path):
    obj = bus.get_object(name, path)
    log("calling Activate(0,0)")
    obj.Activate(0, 0, dbus_interface="org.kde.StatusNotifierItem")
    props = obj.GetAll("org.kde.StatusNotifierItem", dbus_interface=dbus.PROPERTIES_IFACE)
    menu = bus.get_object(name, str(props["Menu"]))
    _, layout = menu.GetLayout(0, -1, ["label"], dbus_interface="com.canonical.dbusmenu")
    quit_id = [int(c[0]) for c in layout[2] if "label" in c[1]][-1]
    log("clicking menu item", quit_id)
    menu.Event(quit_id, "clicked", dbus.String("", variant_level=1), dbus.UInt32(0),
               dbus_interface="com.canonical.dbusmenu")
    GLib.timeout_add(3000, lambda: loop.quit())
    return True

name = dbus.service.BusName("org.kde.StatusNotifierWatcher", bus)
w = Watcher()
log("watcher up")
loop = GLib.MainLoop()
if not PASSIVE:
    GLib.timeout_add(30000, lambda: loop.quit())
loop.run()
