package config

import "time"

// Defaults that other packages and tests may want to name. The rest of the
// defaults live in Default, which is the single place they are set.
const (
	// DefaultRegistrationPath is PingFederate's registration endpoint, so a
	// client written against PingFederate finds dcrgate at the same place.
	DefaultRegistrationPath = "/as/clients.oauth2"
	// DefaultClockSkew is applied to every token issuer and software
	// statement issuer whose YAML omits clock_skew (an explicit 0 is kept:
	// it is a valid, strict setting). iat applies no default of its own.
	DefaultClockSkew = 30 * time.Second
	// DefaultRotationGracePeriod is long enough for a client to retry after
	// a directory stall or a dropped connection, short enough that a
	// replaced token does not live on: like the grace periods of refresh
	// token rotation, it also ends when the new token is first used.
	DefaultRotationGracePeriod = 10 * time.Minute
	// MaxRotationGracePeriod caps it: a replaced credential is not a second
	// credential.
	MaxRotationGracePeriod = 24 * time.Hour
	// DefaultAnonymousClientLifetime is short: a client nobody vouched
	// for, unused for a week, is removed (its host registers again).
	DefaultAnonymousClientLifetime = 7 * 24 * time.Hour
)

// Default returns the configuration used before the file and the environment
// are applied. The DCR options carry PingFederate's defaults, so an operator
// who knows that settings page is never surprised: registration is off until
// enabled, an initial access token is required, and management is off but
// rotates and allows delete once switched on.
func Default() Config {
	return Config{
		Listen:              ":8080",
		ShutdownGracePeriod: 10 * time.Second,
		Registration: Registration{
			Path:                      DefaultRegistrationPath,
			RequireInitialAccessToken: true,
			MaxBodyBytes:              64 << 10,
			MaxRedirectURIs:           20,
			MaxValueLength:            2048,
			Anonymous:                 AnonymousRegistration{ClientLifetime: DefaultAnonymousClientLifetime},
		},
		RateLimits:        RateLimits{AnonymousPerIP: RateLimit{PerMinute: 10, Burst: 5}},
		MetadataDocuments: MetadataDocuments{MinCache: 5 * time.Minute, MaxCache: 24 * time.Hour},
		Fetch:             Fetch{Timeout: 3 * time.Second, MaxBytes: 5 << 10},
		Management: Management{
			RotateClientSecret:            true,
			RotateRegistrationAccessToken: true,
			AllowClientDelete:             true,
			ClientSecretRetentionPeriod:   24 * time.Hour,
			RotationGracePeriod:           DefaultRotationGracePeriod,
		},
		LDAP:    LDAP{PoolSize: 8, Timeout: 5 * time.Second, SecretScheme: "{SSHA512}"},
		Metrics: Metrics{Listen: ":9090"},
		Audit:   Audit{Output: "stderr"},
		Log:     Log{Level: "info", Format: "text"},
	}
}
