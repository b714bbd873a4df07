package persist

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/cespare/xxhash/v2"
)

// DynamicCookie is the cookie value HAProxy gives a server without one when
// the backend's cookie is "dynamic": the XXH64 hash (seed 0) of the
// backend's dynamic-cookie-key, the server's IP address in network order
// (4 bytes for IPv4, 16 for IPv6) and its port as 4 big-endian bytes,
// written as 16 lower-case hex digits.
func DynamicCookie(key string, addr netip.Addr, port uint16) string {
	buf := make([]byte, 0, len(key)+16+4)
	buf = append(buf, key...)
	buf = append(buf, addr.AsSlice()...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(port))
	return fmt.Sprintf("%016x", xxhash.Sum64(buf))
}
