// titus's example configuration, shared by the config tests (it parses) and the proxy tests (it
// starts and serves).
import { join } from "node:path";

// titus.conf.example from the titus repository (v0.4), with the key and certificate paths (and the
// chroot directory) pointed at local files. Everything else is as shipped.
export const TITUS_EXAMPLE = `# Run as a daemon?
#daemon\t\t\tyes
#pid-file\t\t/var/run/titus.pid

# Which port to listen on
port\t\t\t443

# Run in transparent proxy mode (see titus(8) man page)?
#transparent\t\tno

# Address of backend application
backend\t\t\t127.0.0.1
backend-port\t\t8443

# Minimum number of children to keep running waiting for connections
#min-spare-children\t3

# Maximum number of children (i.e. connections) at once
#max-children\t\t100

# Maximum time (in seconds) that TLS handshake may take
#max-handshake-time\t10

# What user and group to run the network-talking processes as
network-user\t\ttitus
network-group\t\tnogroup

# What user and group to run the key server processes as
keyserver-user\t\ttitus-keys
keyserver-group\t\tnogroup

# Directory to chroot to (this should be empty and not writable by the titus user)
chroot\t\t\tEMPTY

# TLS key and certificate
key\t\t\tKEYDIR/www.example.com.key
cert\t\t\tCERTDIR/www.example.com.chained.crt

# TLS settings (see titus(8) man page)
#ciphers\t\tECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:DHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA:DHE-RSA-CAMELLIA256-SHA:AES256-GCM-SHA384:AES256-SHA256:AES256-SHA:CAMELLIA256-SHA:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:DHE-RSA-CAMELLIA128-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA:CAMELLIA128-SHA:ECDHE-RSA-RC4-SHA:RC4-SHA
#dhgroup\t\t14
#ecdhcurve\t\tsecp521r1
#compression\t\tno
#sslv3\t\t\tno
#tlsv1\t\t\tyes
#tlsv1.1\t\tyes
#tlsv1.2\t\tyes
#honor-client-cipher-order no
`;

/** The example with its key, certificate and chroot paths under `root`. */
export function titusExample(root: string): string {
  return TITUS_EXAMPLE.replace("EMPTY", join(root, "empty")).replace("KEYDIR", join(root, "private")).replace("CERTDIR", join(root, "certs"));
}
