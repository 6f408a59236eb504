"""What the tests that start Debian's nginx share: the head of a
configuration that runs it unprivileged-safe in a temporary directory (as
root it must be told to stay root, or its workers cannot read the test's
files), with an access log in a JSON format of the test's choosing, and
distinct free loopback ports for its servers."""
import os

from conftest import free_port


def conf_head(d, log_format, *, workers=1, connections=256, mime='default_type text/plain;'):
    """Everything up to the servers: close it with the servers' blocks and
    a '}'. log_format is the access log's format (a JSON object written
    with nginx variables, escaped as JSON)."""
    user = ""
    if os.geteuid() == 0:
        import grp
        import pwd
        user = f"user {pwd.getpwuid(0).pw_name} {grp.getgrgid(0).gr_name};"
    tmp = os.path.join(d, "tmp")
    os.makedirs(tmp, exist_ok=True)
    return f"""{user}
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections {connections}; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    {mime}
    log_format j escape=json '{log_format}';
    access_log {d}/access.log j;
    keepalive_requests 100000;
"""


def free_ports(n):
    """n distinct free loopback ports (conftest.free_port's, below the
    ephemeral range)."""
    ports = []
    while len(ports) < n:
        p = free_port()
        if p not in ports:
            ports.append(p)
    return ports
