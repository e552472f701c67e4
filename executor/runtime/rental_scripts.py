"""What runs inside a rental's two containers (executor/runtime/rental_pod.py). Kept here, not in
the image, so the image carries no policy: `meshwork/rental-ssh` is only Debian with OpenSSH."""

SSH_PORT = 2222  # inside the namespace: above 1024, so sshd needs no NET_BIND_SERVICE
SSH_USER = "meshwork"

# The fence: firewall of the rental's namespace, then sleep. Inbound only the SSH port (and
# replies); outbound everything but $MESHWORK_BLOCKED (and no IPv6 at all). "fenced" on stdout
# once the rules are in place: the machine joins only then.
FENCE_SCRIPT = f"""set -eu
iptables -P INPUT DROP
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p tcp --dport {SSH_PORT} -j ACCEPT
iptables -A OUTPUT -o lo -j ACCEPT
iptables -A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
for net in $MESHWORK_BLOCKED; do iptables -A OUTPUT -d "$net" -j REJECT; done
if [ -e /proc/net/if_inet6 ]; then
  ip6tables -P INPUT DROP
  ip6tables -P OUTPUT DROP
  ip6tables -A INPUT -i lo -j ACCEPT
  ip6tables -A OUTPUT -o lo -j ACCEPT
fi
echo fenced
exec sleep infinity
"""

# The machine: sshd as the namespace's only server, public keys only, the one user, no root.
SSHD_CONFIG = f"""Port {SSH_PORT}
HostKey /run/sshd-keys/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin no
AllowUsers {SSH_USER}
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
HostbasedAuthentication no
UsePAM no
AuthorizedKeysFile /run/meshwork/authorized_keys
StrictModes yes
AllowAgentForwarding no
AllowTcpForwarding local
GatewayPorts no
PermitTunnel no
X11Forwarding no
PermitUserEnvironment no
MaxAuthTries 3
LoginGraceTime 30
ClientAliveInterval 60
"""

MACHINE_SCRIPT = f"""set -eu
umask 022
mkdir -p /run/sshd /run/meshwork /run/sshd-keys
printf '%s\\n' "$MESHWORK_SSH_KEY" > /run/meshwork/authorized_keys
unset MESHWORK_SSH_KEY
ssh-keygen -q -t ed25519 -N '' -f /run/sshd-keys/ssh_host_ed25519_key
cat > /run/sshd_config <<'EOF'
{SSHD_CONFIG}EOF
exec /usr/sbin/sshd -D -e -f /run/sshd_config
"""
