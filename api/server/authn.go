package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/types"
)

// Authentication (authn) follows kube-apiserver's static token file
// (--token-auth-file): a request carries "Authorization: Bearer TOKEN" of
// a listed user, or it is answered 401 Unauthorized, except the public
// endpoints Kubernetes' system:public-info-viewer role lets anonymous
// users read (/healthz, /livez, /readyz, /version). Authorization is
// AlwaysAllow: every authenticated user may do everything.

// Well-known user and group names, as Kubernetes spells them.
const (
	// LoopbackUser is the in-process identity of the server's own
	// components (scheduler, controllers, the agent of `wharf up`), as
	// kube-apiserver's loopback client.
	LoopbackUser = "system:apiserver"
	// AnonymousUser is the user of a request without a token to a public
	// endpoint.
	AnonymousUser = "system:anonymous"
	// GroupAuthenticated is added to the groups of every authenticated
	// user.
	GroupAuthenticated = "system:authenticated"
	// GroupUnauthenticated is the group of AnonymousUser.
	GroupUnauthenticated = "system:unauthenticated"
	// GroupMasters is the group of LoopbackUser; it grants nothing more
	// than other groups while authorization is AlwaysAllow.
	GroupMasters = "system:masters"
)

// ErrTokenFile says a token file could not be used; the message names the
// file and the line.
var ErrTokenFile = errors.New("bad token file")

// User is an authenticated identity.
type User struct {
	// Name is the user name ("alice", "system:node:worker-1").
	Name string
	// UID is the user's unique ID, from the token file's third column.
	UID string
	// Groups are the groups of the token file's fourth column, plus
	// GroupAuthenticated.
	Groups []string
}

// TokenAuthenticator maps a bearer token to its user. It is called
// concurrently by every request.
type TokenAuthenticator interface {
	// AuthenticateToken returns the user of token, or false when the
	// token is unknown. The caller does not modify the User.
	AuthenticateToken(ctx context.Context, token string) (*User, bool)
}

var _ TokenAuthenticator = (*TokenFile)(nil)

// TokenFile is the table of a static token file: each entry a token and
// its user. Read it with LoadTokenFile or ParseTokenFile; Add more
// entries (the loopback token) before serving: it is not safe to Add
// while AuthenticateToken runs.
type TokenFile struct {
	entries []tokenEntry
}

type tokenEntry struct {
	// sum is the SHA-256 of the token: comparing sums of equal length
	// in constant time reveals neither the token nor its length.
	sum  [sha256.Size]byte
	user *User
	line int // in the file, for error messages (0 for Add)
}

// constantTimeCompare compares token sums; a variable so that a test can
// check that every entry is compared, whatever matches.
var constantTimeCompare = subtle.ConstantTimeCompare

// AuthenticateToken returns the user whose token is token. It compares
// the token's hash with every entry's in constant time, not stopping at
// a match, so that the time taken says nothing about which token matched
// or how much of it.
func (f *TokenFile) AuthenticateToken(_ context.Context, token string) (*User, bool) {
	if token == "" {
		return nil, false
	}
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i := range f.entries {
		eq := constantTimeCompare(sum[:], f.entries[i].sum[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return nil, false
	}
	return f.entries[found].user, true
}

// Len returns how many tokens f holds.
func (f *TokenFile) Len() int { return len(f.entries) }

// Add adds token for u (GroupAuthenticated is added to its groups). It
// refuses an empty token, a token with spaces, a user without a name, and
// a token already listed.
func (f *TokenFile) Add(token string, u User) error {
	if err := checkToken(token); err != nil {
		return fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	if u.Name == "" {
		return fmt.Errorf("%w: the user of a token needs a name", ErrTokenFile)
	}
	if err := f.add(token, u, 0); err != nil {
		return fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	return nil
}

func (f *TokenFile) add(token string, u User, line int) error {
	sum := sha256.Sum256([]byte(token))
	for _, e := range f.entries {
		if e.sum == sum {
			if e.line > 0 {
				return fmt.Errorf("the token is already on line %d (user %q)", e.line, e.user.Name)
			}
			return fmt.Errorf("the token is already listed (user %q)", e.user.Name)
		}
	}
	groups := slices.Clone(u.Groups)
	if !slices.Contains(groups, GroupAuthenticated) {
		groups = append(groups, GroupAuthenticated)
	}
	u.Groups = groups
	f.entries = append(f.entries, tokenEntry{sum: sum, user: &u, line: line})
	return nil
}

func checkToken(token string) error {
	switch {
	case token == "":
		return errors.New("empty token")
	case strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return errors.New("the token has a space or a control character, which an Authorization header cannot carry")
	}
	return nil
}

// LoadTokenFile reads a token file (see ParseTokenFile). As with
// kube-apiserver, the file is read once: a change needs a restart.
func LoadTokenFile(path string) (*TokenFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	f, err := ParseTokenFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	return f, nil
}

// ParseTokenFile reads kube-apiserver's token file format: CSV lines
// token,user,uid[,"group1,group2"]. Lines starting with # and blank lines
// are ignored; spaces around fields are trimmed. Unlike kube-apiserver,
// which skips such lines with a warning, a line with fewer than 3 or more
// than 4 columns, an empty token or user name, or a token listed twice is
// an error naming the line, and so is a file without any token.
func ParseTokenFile(r io.Reader) (*TokenFile, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	f := &TokenFile{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTokenFile, err) // csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if err := f.addRecord(rec, line); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrTokenFile, line, err)
		}
	}
	if len(f.entries) == 0 {
		return nil, fmt.Errorf("%w: no token in it (lines token,user,uid[,\"group1,group2\"])", ErrTokenFile)
	}
	return f, nil
}

// addRecord adds the entry of one CSV record.
func (f *TokenFile) addRecord(rec []string, line int) error {
	switch {
	case len(rec) < 3:
		return fmt.Errorf("%d column(s), want token,user,uid[,\"group1,group2\"]", len(rec))
	case len(rec) > 4:
		return fmt.Errorf("%d columns, want at most 4 (token,user,uid,groups): quote a list of groups, as \"group1,group2\"", len(rec))
	case rec[1] == "":
		return errors.New("empty user name")
	}
	if err := checkToken(rec[0]); err != nil {
		return err
	}
	u := User{Name: rec[1], UID: rec[2]}
	if len(rec) == 4 {
		for _, g := range strings.Split(rec[3], ",") {
			if g = strings.TrimSpace(g); g != "" {
				u.Groups = append(u.Groups, g)
			}
		}
	}
	return f.add(rec[0], u, line)
}

// NewToken returns a new random bearer token (256 bits, base64url), as
// for the loopback identity of the server's own components.
func NewToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// userKey is the context key of the request's *User.
type userKey struct{}

// UserFrom returns the authenticated user of a request's context: the
// token's user, or AnonymousUser on a public endpoint. It returns false
// when the server authenticates nobody (no Config.Authenticator). The
// User is shared by every request of that user: do not modify it.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok
}

// anonymous is the user of unauthenticated requests to public endpoints.
var anonymous = &User{Name: AnonymousUser, Groups: []string{GroupUnauthenticated}}

// isPublicPath says whether path is readable without a token: the paths
// of Kubernetes' system:public-info-viewer role.
func isPublicPath(path string) bool {
	switch path {
	case "/healthz", "/livez", "/readyz", "/version", "/version/":
		return true
	}
	return false
}

// bearerToken returns the token of an "Authorization: Bearer TOKEN"
// header ("Bearer" in any case, as Kubernetes), or "".
func bearerToken(h http.Header) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// errUnauthorized is Kubernetes' answer to a request it cannot
// authenticate, word for word.
func errUnauthorized() *StatusError {
	return newStatusError(http.StatusUnauthorized, types.StatusReasonUnauthorized, "Unauthorized", nil)
}

// authenticate is the middleware of a server with an Authenticator: it
// finds the request's user, puts it in the request's context, or answers
// 401 Unauthorized with a WWW-Authenticate header. A request with a token
// that is not accepted is refused even on a public path, as Kubernetes
// does. Every request is then logged at debug level with its user.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		var user *User
		if token := bearerToken(req.Header); token != "" {
			if u, ok := s.cfg.Authenticator.AuthenticateToken(req.Context(), token); ok {
				user = u
			}
			if user == nil {
				return s.unauthorized(c, "the bearer token is not accepted", slog.LevelInfo)
			}
		} else if isPublicPath(req.URL.Path) {
			user = anonymous
		} else {
			return s.unauthorized(c, "no bearer token", slog.LevelDebug)
		}
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), userKey{}, user)))
		err := next(c)
		if err != nil {
			c.Error(err) // now, so that the log line has the answer's code
		}
		if s.log.Enabled(req.Context(), slog.LevelDebug) {
			s.log.LogAttrs(req.Context(), slog.LevelDebug, "api request", slog.String("user", user.Name),
				slog.String("method", req.Method), slog.String("uri", req.RequestURI),
				slog.Int("code", c.Response().Status), slog.Duration("took", time.Since(start)))
		}
		return nil
	}
}

// unauthorized answers 401 and logs why (never the token). A request
// without a token is logged at debug level only (as kube-apiserver, which
// does not log them): anyone who reaches the port could otherwise fill
// the log; a token that is refused is worth an info line.
func (s *Server) unauthorized(c echo.Context, why string, level slog.Level) error {
	req := c.Request()
	s.log.Log(req.Context(), level, "request not authenticated", "reason", why, "method", req.Method, "uri", req.RequestURI,
		"remote", req.RemoteAddr, "userAgent", req.UserAgent())
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="wharf"`)
	return errUnauthorized()
}

// serveSelfSubjectReview answers SelfSubjectReviews (kubectl auth
// whoami) with the request's user: AnonymousUser when the server
// authenticates nobody. The body (JSON or, from kubectl, protobuf) is
// read but not needed for the answer.
func (s *Server) serveSelfSubjectReview(c echo.Context) error {
	if _, err := s.readBody(c); err != nil {
		return err
	}
	u, ok := UserFrom(c.Request().Context())
	if !ok {
		u = anonymous
	}
	return writeJSON(c, http.StatusCreated, map[string]any{
		"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
		"metadata": map[string]any{},
		"status":   map[string]any{"userInfo": userInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}},
	})
}

// userInfo is Kubernetes' authentication/v1 UserInfo.
type userInfo struct {
	Username string   `json:"username"`
	UID      string   `json:"uid,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}
