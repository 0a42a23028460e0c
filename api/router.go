// Package api is dcrgate's HTTP face: gin handlers that read a request, call
// the registration service and render its answer, plus the middleware every
// request passes. Handlers hold no OAuth logic; errors are rendered in one
// place (render.go) from *oauth.Error values.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/registration"
)

// Registrar is what the handlers need from the registration service.
type Registrar interface {
	Register(ctx context.Context, bearer string, body []byte) (registration.Registration, error)
	Read(ctx context.Context, clientID, bearer string) (registration.Registration, error)
	Update(ctx context.Context, clientID, bearer string, body []byte) (registration.Registration, error)
	Delete(ctx context.Context, clientID, bearer string) error
}

// Config is the HTTP-level configuration.
type Config struct {
	// Path is the registration endpoint, e.g. /as/clients.oauth2; management
	// lives at Path/{client_id}.
	Path                string
	RegistrationEnabled bool
	ManagementEnabled   bool
	// MaxBodyBytes caps request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Realm is the realm of WWW-Authenticate challenges.
	Realm string
	// AllowedOrigins are the web origins allowed to call the API from a
	// browser (CORS); none by default.
	AllowedOrigins []string
	// AnonymousRegistration says the anonymous profile admits
	// registrations without an initial access token (registration.anonymous),
	// which the served OpenAPI document then shows.
	AnonymousRegistration bool
	// MetadataDocuments mounts POST {Path}/metadata-document, where the
	// authorization server (or an administrator) has dcrgate fetch a Client
	// ID Metadata Document into the directory; svc must then be a
	// MetadataDocumenter.
	MetadataDocuments bool
	// TrustedProxies are the proxies (IPs or CIDRs) whose X-Forwarded-For
	// and X-Real-IP give the caller's address; none: the peer's address.
	TrustedProxies []string
}

// MetadataDocumenter is what the metadata document endpoint needs from the
// registration service.
type MetadataDocumenter interface {
	MetadataDocument(ctx context.Context, bearer, clientID string) (registration.Registration, bool, error)
}

// MetadataDocumentPath is where, below the registration endpoint, client
// ID metadata documents are fetched.
const MetadataDocumentPath = "/metadata-document"

// handlers carries the handlers' dependencies.
type handlers struct {
	svc    Registrar
	cfg    Config
	logger *slog.Logger
}

// NewRouter returns the gin engine serving the registration API and, at
// OpenAPIPath, its OpenAPI document. With registration disabled it serves
// nothing, the document included: every request is a 404, as the
// operator's start-up log says.
func NewRouter(cfg Config, svc Registrar, m *metrics.Metrics, logger *slog.Logger) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	h := &handlers{svc: svc, cfg: cfg, logger: logger}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		logger.Error("trusted_proxies ignored: the peer's address is taken as the caller's", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.RemoteIPHeaders = remoteIPHeaders
	r.Use(requestID(), forwarded(), callerIP(), accessLog(logger), observe(m), recovery(h), safeHeaders(), crossOrigin(cfg.AllowedOrigins))
	r.NoRoute(func(c *gin.Context) { h.renderError(c, oauth.ErrNotFound) })
	r.NoMethod(func(c *gin.Context) { h.renderError(c, oauth.ErrMethodNotAllowed) })
	if !cfg.RegistrationEnabled {
		return r
	}
	r.GET(OpenAPIPath, serveOpenAPI(cfg))
	r.POST(cfg.Path, h.limitBody, h.register)
	if md, ok := svc.(MetadataDocumenter); ok && cfg.MetadataDocuments {
		r.POST(cfg.Path+MetadataDocumentPath, h.limitBody, h.metadataDocument(md))
	}
	if cfg.ManagementEnabled {
		item := cfg.Path + "/:client_id"
		r.GET(item, h.read)
		r.PUT(item, h.limitBody, h.update)
		r.DELETE(item, h.remove)
	}
	return r
}

// register handles POST {path} (RFC 7591 §3.1).
func (h *handlers) register(c *gin.Context) {
	body, err := readJSONBody(c)
	if err != nil {
		h.renderError(c, err)
		return
	}
	reg, err := h.svc.Register(c.Request.Context(), bearerToken(c.Request), body)
	h.renderRegistration(c, http.StatusCreated, reg, err)
}

// metadataDocument handles POST {path}/metadata-document: a JSON object
// whose client_id is the URL of a Client ID Metadata Document. 201 for a
// client new to the directory, 200 for one it already holds.
func (h *handlers) metadataDocument(md MetadataDocumenter) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := readJSONBody(c)
		if err != nil {
			h.renderError(c, err)
			return
		}
		var req struct {
			ClientID string `json:"client_id"`
		}
		if json.Unmarshal(body, &req) != nil {
			h.renderError(c, oauth.ErrInvalidRequest.WithDescription("the body must be a JSON object with a string client_id"))
			return
		}
		reg, created, err := md.MetadataDocument(c.Request.Context(), bearerToken(c.Request), req.ClientID)
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		h.renderRegistration(c, status, reg, err)
	}
}

// read handles GET {path}/{client_id} (RFC 7592 §2.1).
func (h *handlers) read(c *gin.Context) {
	reg, err := h.svc.Read(c.Request.Context(), c.Param("client_id"), bearerToken(c.Request))
	h.renderRegistration(c, http.StatusOK, reg, err)
}

// update handles PUT {path}/{client_id} (RFC 7592 §2.2).
func (h *handlers) update(c *gin.Context) {
	body, err := readJSONBody(c)
	if err != nil {
		h.renderError(c, err)
		return
	}
	reg, err := h.svc.Update(c.Request.Context(), c.Param("client_id"), bearerToken(c.Request), body)
	h.renderRegistration(c, http.StatusOK, reg, err)
}

// remove handles DELETE {path}/{client_id} (RFC 7592 §2.3).
func (h *handlers) remove(c *gin.Context) {
	if err := h.svc.Delete(c.Request.Context(), c.Param("client_id"), bearerToken(c.Request)); err != nil {
		h.renderError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
