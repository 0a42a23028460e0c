package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/registration"
)

// output is where the clients subcommands write their results: stdout,
// buffered (a listing of 100,000 clients is not 100,000 writes) and flushed
// when the command ends. With --json every result is one JSON object on
// one line, for scripts; otherwise text for people.
type output struct {
	w    *bufio.Writer
	json bool
	now  time.Time
	// err is the first failed write: a closed stdout ends a walk at once
	// instead of after every client was read.
	err error
}

func newOutput(cmd *cobra.Command, asJSON bool) *output {
	return &output{w: bufio.NewWriter(cmd.OutOrStdout()), json: asJSON, now: time.Now()}
}

// printf writes text; a failed write is kept for emit and flush.
func (o *output) printf(format string, args ...any) {
	if o.err == nil {
		_, o.err = fmt.Fprintf(o.w, format, args...)
	}
}

func (o *output) flush() error {
	if o.err != nil {
		return o.err
	}
	return o.w.Flush()
}

// emit writes v as one JSON line with --json, and calls text otherwise.
func (o *output) emit(v any, text func()) error {
	if !o.json {
		text()
		return o.err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	o.printf("%s\n", b)
	return o.err
}

// status is a client's state in one word or two, as people ask about it.
// Expired comes first: an expired client is gone for dcrgate, and the
// reaper removes it whether disabled or not.
func status(r client.Record, now time.Time) string {
	switch {
	case !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt):
		return "expired"
	case registration.AwaitingApproval(r):
		return "awaiting approval"
	case r.Disabled:
		return "disabled"
	}
	return "active"
}

// clientView is a client as the CLI shows it: its metadata and the server's
// state, built field by field from the record so that no secret hash or
// token hash can ever reach the output, whatever the record gains later.
type clientView struct {
	ClientID        string          `json:"client_id"`
	Status          string          `json:"status"`
	Metadata        client.Metadata `json:"metadata"`
	Owner           ownerView       `json:"owner"`
	StatementIssuer string          `json:"software_statement_issuer,omitempty"`
	CreatedAt       time.Time       `json:"created_at,omitzero"`
	LastUsedAt      time.Time       `json:"last_used_at,omitzero"`
	LastBindAt      time.Time       `json:"last_bind_at,omitzero"`
	ExpiresAt       time.Time       `json:"expires_at,omitzero"`
	HasSecret       bool            `json:"has_secret"`
	SecretExpiresAt time.Time       `json:"client_secret_expires_at,omitzero"`
	RetainedSecrets int             `json:"retained_secrets"`
	// PreviousTokenUntil is when the token a rotation replaced stops being
	// accepted, while it still is.
	PreviousTokenUntil time.Time `json:"previous_token_grace_until,omitzero"`
	Disabled           bool      `json:"disabled"`
	DisabledReason     string    `json:"disabled_reason,omitempty"`
	Defaulted          []string  `json:"defaulted,omitempty"`
	Revision           uint64    `json:"revision"`
}

// ownerView is who registered the client: the principal of its initial
// access token (its claims, never the token).
type ownerView struct {
	Issuer   string          `json:"issuer,omitempty"`
	Subject  string          `json:"subject,omitempty"`
	TokenID  string          `json:"token_id,omitempty"`
	ClientID string          `json:"client_id,omitempty"`
	Scopes   []string        `json:"scopes,omitempty"`
	Claims   json.RawMessage `json:"claims,omitempty"`
}

func viewOf(r client.Record, now time.Time) clientView {
	v := clientView{
		ClientID: r.ID, Status: status(r, now), Metadata: r.Metadata,
		Owner: ownerView{Issuer: r.Owner.Issuer, Subject: r.Owner.Subject, TokenID: r.Owner.TokenID,
			ClientID: r.Owner.ClientID, Scopes: r.Owner.Scopes, Claims: r.Owner.Claims},
		CreatedAt: r.IssuedAt, LastUsedAt: r.LastUsedAt, LastBindAt: r.LastBindAt, ExpiresAt: r.ExpiresAt,
		HasSecret: r.CurrentSecret() != "", SecretExpiresAt: r.SecretExpiresAt, RetainedSecrets: max(len(r.Secrets)-1, 0),
		Disabled: r.Disabled, DisabledReason: r.DisabledReason, Defaulted: r.Defaulted, Revision: r.Revision,
	}
	if r.Statement != nil {
		v.StatementIssuer = r.Statement.Issuer
	}
	if r.PreviousToken.ValidAt(now) {
		v.PreviousTokenUntil = r.PreviousToken.ExpiresAt
	}
	return v
}

// The table of `clients list`: fixed-width columns, so that rows can be
// written as the walk reads them. IDs are never cut (people copy them);
// names and owners are, with an ellipsis.
const (
	rowFormat  = "%-26s  %-20s  %-18s  %-10s  %-10s  %-10s  %s\n"
	nameWidth  = 20
	ownerWidth = 18
)

func (o *output) header() {
	if !o.json {
		o.printf(rowFormat, "ID", "NAME", "OWNER", "CREATED", "LAST USED", "EXPIRES", "STATUS")
	}
}

// row writes one client of a listing.
func (o *output) row(r client.Record) error {
	return o.emit(viewOf(r, o.now), func() {
		o.printf(rowFormat, r.ID, cut(r.Metadata.ClientName, nameWidth), cut(r.Owner.Subject, ownerWidth),
			day(r.IssuedAt), day(r.LastUsedAt), day(r.ExpiresAt), status(r, o.now))
	})
}

// cut shortens s to width runes, marking the cut, and keeps it on one
// printable line.
func cut(s string, width int) string {
	s = printable(s)
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	return string([]rune(s)[:width-1]) + "…"
}

// printable puts s on one line of text a terminal shows as it is: runs of
// white space become one space, other control characters (escape
// sequences included) a '?'.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) || r == ' ' {
			return r
		}
		return '?'
	}, strings.Join(strings.Fields(s), " "))
}

// day is a date for the table; the zero time is "never".
func day(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.DateOnly)
}

// instant is a time for `show`; the zero time is said as when.
func instant(t time.Time, when string) string {
	if t.IsZero() {
		return when
	}
	return t.UTC().Format(time.RFC3339)
}

// details writes everything about one client: one JSON line, or labelled
// lines and the metadata pretty-printed for people.
func (o *output) details(r client.Record) error {
	v := viewOf(r, o.now)
	return o.emit(v, func() {
		o.labelled(detailLines(v))
		o.printf("metadata:\n%s\n", indentJSON(v.Metadata))
	})
}

// labelled writes label: value lines with the values aligned.
func (o *output) labelled(lines [][2]string) {
	for _, l := range lines {
		o.printf("%-26s %s\n", l[0]+":", printable(l[1]))
	}
}

// detailLines are the labelled facts `show` prints, in order.
func detailLines(v clientView) [][2]string {
	lines := [][2]string{
		{"client_id", v.ClientID},
		{"status", v.Status},
		{"name", v.Metadata.ClientName},
		{"owner", ownerLine(v.Owner)},
		{"owner token id", v.Owner.TokenID},
		{"owner client id", v.Owner.ClientID},
		{"owner scopes", strings.Join(v.Owner.Scopes, " ")},
		{"statement issuer", orNone(v.StatementIssuer)},
		{"created", instant(v.CreatedAt, "unknown")},
		{"last used", instant(v.LastUsedAt, "never since registered")},
		{"last bind", instant(v.LastBindAt, "none recorded")},
		{"expires", instant(v.ExpiresAt, "never")},
		{"secret", secretLine(v)},
		{"retained secrets", fmt.Sprint(v.RetainedSecrets)},
		{"previous token", previousTokenLine(v)},
		{"revision", fmt.Sprint(v.Revision)},
	}
	if v.Disabled {
		lines = append(lines, [2]string{"disabled", orNone(v.DisabledReason)})
	}
	if len(v.Defaulted) > 0 {
		lines = append(lines, [2]string{"defaulted", strings.Join(v.Defaulted, ", ")})
	}
	return lines
}

func ownerLine(o ownerView) string {
	if o.Subject == "" && o.Issuer == "" {
		return "unknown"
	}
	return o.Subject + " (" + o.Issuer + ")"
}

func secretLine(v clientView) string {
	if !v.HasSecret {
		return "none (public client)"
	}
	return "expires " + instant(v.SecretExpiresAt, "never")
}

func previousTokenLine(v clientView) string {
	if v.PreviousTokenUntil.IsZero() {
		return "none in grace"
	}
	return "in grace until " + instant(v.PreviousTokenUntil, "")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// indentJSON pretty-prints the metadata for people; canonical JSON always
// marshals, so an error is shown in its place rather than returned.
func indentJSON(v any) string {
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	return "  " + string(b)
}

// credentialsView is what reset-token issued, shown once.
type credentialsView struct {
	ClientID                string    `json:"client_id"`
	RegistrationAccessToken string    `json:"registration_access_token"`
	RegistrationClientURI   string    `json:"registration_client_uri,omitempty"`
	ClientSecret            string    `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   time.Time `json:"client_secret_expires_at,omitzero"`
}

// credentials writes the clear credentials a reset issued.
func (o *output) credentials(reg registration.Registration) error {
	v := credentialsView{ClientID: reg.ClientID, RegistrationAccessToken: reg.RegistrationAccessToken,
		RegistrationClientURI: reg.RegistrationClientURI}
	if reg.ClientSecret != "" {
		v.ClientSecret, v.ClientSecretExpiresAt = reg.ClientSecret, reg.ClientSecretExpiresAt
	}
	return o.emit(v, func() {
		lines := [][2]string{{"client_id", v.ClientID}, {"registration_access_token", v.RegistrationAccessToken}}
		if v.ClientSecret != "" {
			lines = append(lines, [2]string{"client_secret", v.ClientSecret},
				[2]string{"client_secret_expires_at", instant(v.ClientSecretExpiresAt, "never")})
		}
		o.labelled(lines)
	})
}
