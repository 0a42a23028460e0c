package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/rs/cors"
)

// crossOrigin answers CORS (Fetch standard) for the origins allowed, so
// that browser-based hosts — an MCP client in a web page — can register
// and manage clients: preflights are answered at once with the methods
// and headers the API takes, responses name the origin and vary on it,
// and no credentials mode is offered (bearer tokens travel in the
// Authorization header, never in cookies). With no origin allowed it does
// nothing, so nothing is opened by default. rs/cors does the matching,
// wildcards such as https://*.example.com included.
func crossOrigin(origins []string) gin.HandlerFunc {
	if len(origins) == 0 {
		return func(c *gin.Context) { c.Next() }
	}
	co := cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"Retry-After", "WWW-Authenticate", "X-Request-Id"},
		AllowCredentials: false,
		MaxAge:           600,
	})
	return func(c *gin.Context) {
		proceed := false
		co.ServeHTTP(c.Writer, c.Request, func(http.ResponseWriter, *http.Request) { proceed = true })
		if !proceed { // a preflight, answered
			c.Abort()
			return
		}
		c.Next()
	}
}
