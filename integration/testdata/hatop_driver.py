# Drives hatop's own socket code without its curses screen: connects in
# prompt mode, reads "show info" and "show stat" as hatop's display loop
# does, renders its screen lines, then runs the commands of its hotkeys.
# Usage: python3 hatop_driver.py <socket> <proxy> <backend/server>
import importlib.machinery
import importlib.util
import sys

loader = importlib.machinery.SourceFileLoader("hatop", "/usr/bin/hatop")
spec = importlib.util.spec_from_loader("hatop", loader)
hatop = importlib.util.module_from_spec(spec)
loader.exec_module(hatop)

path, proxy, server = sys.argv[1:4]


def show_lines():
    # Renders every row in every display mode, as the screen would.
    for line in hatop.get_screenlines(data.stat):
        if line.stat is None:
            continue
        for mode in hatop.SCREEN_MODES[1:5]:  # STATUS, TRAFFIC, HTTP, ERRORS
            hatop.get_screenline(mode, line.stat)
        print("line", line.stat["pxname"], line.stat["svname"], line.stat["status"], line.stat["weight"])

sock = hatop.Socket(path)
sock.connect()
data = hatop.SocketData(sock)
data.register_proxy_filter([proxy])
data.update_info()
data.update_stat()
print("info", data.info["software_name"], data.info["pid"], data.info["maxconn"], data.info["curconn"])
print("counts", data.pxcount, data.svcount)
show_lines()
for cmd in ("disable server " + server, "set weight " + server + " 50%",
            "enable server " + server, "set weight " + server + " 100%",
            "disable server " + server):
    sock.send(cmd.encode())
    print("cmd", cmd, "->", "|".join(sock.recv()))
data.update_stat()
show_lines()
sock.close()
