package api

import (
	"net"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
)

// forwardedFor is the request header under which the addresses of an RFC
// 7239 Forwarded header are handed to gin's ClientIP as a comma-separated
// list, like X-Forwarded-For: gin then believes them exactly as it
// believes X-Forwarded-For — only from a configured trusted proxy, and
// skipping the trusted proxies from the right. Whatever a caller sends
// under this name is removed first.
const forwardedFor = "X-Dcrgate-Forwarded-For"

// remoteIPHeaders are the headers naming the caller, by precedence: the
// standard Forwarded, then the de facto ones.
var remoteIPHeaders = []string{forwardedFor, "X-Forwarded-For", "X-Real-IP"}

// forwarded translates Forwarded (RFC 7239) for gin's ClientIP.
func forwarded() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Request.Header.Del(forwardedFor)
		if values := c.Request.Header.Values("Forwarded"); len(values) > 0 {
			c.Request.Header.Set(forwardedFor, strings.Join(forwardedAddrs(values), ","))
		}
		c.Next()
	}
}

// forwardedAddrs lists the for= node of every element, in order, as IPs;
// a node that is not one (unknown, an obfuscated name) is kept as "?",
// which gin's check treats as invalid, so the list is not believed past it.
func forwardedAddrs(values []string) []string {
	var addrs []string
	for _, v := range values {
		for _, element := range strings.Split(v, ",") {
			for _, pair := range strings.Split(element, ";") {
				name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(name, "for") {
					addrs = append(addrs, nodeIP(strings.Trim(value, `"`)))
				}
			}
		}
	}
	return addrs
}

// nodeIP is the IP of an RFC 7239 §6 node ("192.0.2.43", "192.0.2.43:47011",
// "[2001:db8::17]:4711"), or "?".
func nodeIP(node string) string {
	if host, _, err := net.SplitHostPort(node); err == nil {
		node = host
	}
	node = strings.TrimSuffix(strings.TrimPrefix(node, "["), "]")
	if addr, err := netip.ParseAddr(node); err == nil && addr.Zone() == "" {
		return addr.String()
	}
	return "?"
}
