package server

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/types"
)

// ctxKeyRequestInfo is the echo context key holding the *requestInfo of a
// resource request (read by the metrics middleware).
const ctxKeyRequestInfo = "wharf.requestInfo"

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.recoverMiddleware, s.metricsMiddleware)

	e.GET("/version", s.serveVersion)
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		e.GET(p, s.serveHealth)
	}
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))
	e.GET("/api", s.serveAPIVersions)
	e.GET("/apis", s.serveAPIGroupList)
	e.GET("/openapi/v3", s.serveOpenAPIRoot)
	e.GET("/openapi/v3/*", s.serveOpenAPIGroupVersion)
	e.POST("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", s.serveAccessReview)
	if s.cfg.Profiling {
		addProfiling(e)
	}
	e.Any(metricsPrefix, s.serveMetricsAPI)      // metricsapi.go
	e.Any(metricsPrefix+"/*", s.serveMetricsAPI) // metricsapi.go
	e.Any("/api/*", s.serveAPI)
	e.Any("/apis/*", s.serveAPI)
	e.RouteNotFound("/*", func(c echo.Context) error {
		return errNotFoundPath(c.Request().URL.Path)
	})
	return e
}

// serveAPI answers discovery of one group version, or a resource request.
func (s *Server) serveAPI(c echo.Context) error {
	req := c.Request()
	parts := splitPath(req.URL.Path)
	if (len(parts) == 2 && parts[0] == "api") || (len(parts) == 3 && parts[0] == "apis") {
		if req.Method != http.MethodGet {
			return errMethodNotAllowed()
		}
		if parts[0] == "api" {
			return s.serveResourceList(c, "", parts[1])
		}
		return s.serveResourceList(c, parts[1], parts[2])
	}
	if len(parts) == 2 && parts[0] == "apis" {
		return s.serveAPIGroup(c, parts[1])
	}
	ri, serr := parseRequest(req.Method, req.URL.Path, req.URL.Query())
	if serr != nil {
		return serr
	}
	c.Set(ctxKeyRequestInfo, ri)
	return s.serveResource(c, ri)
}

// handleError writes err as a Status, unless the response has started.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			err = errNotFoundPath(c.Request().URL.Path)
		case http.StatusMethodNotAllowed:
			err = errMethodNotAllowed()
		case http.StatusRequestEntityTooLarge:
			err = errTooLarge(s.cfg.MaxBodyBytes)
		default:
			err = newStatusError(he.Code, "", fmt.Sprint(he.Message), nil)
		}
	}
	st := toStatus(err)
	if st.Code >= 500 {
		s.log.Error("api request failed", "method", c.Request().Method, "path", c.Request().URL.Path,
			"code", st.Code, "err", err)
	}
	_ = writeJSON(c, int(st.Code), st)
}

func (s *Server) recoverMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic serving request", "path", c.Request().URL.Path, "panic", r, "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

func (s *Server) metricsMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		verb, resource := "", ""
		if ri, ok := c.Get(ctxKeyRequestInfo).(*requestInfo); ok {
			verb, resource = ri.Verb, ri.resourceLabel()
		} else {
			verb = c.Request().Method
		}
		code := c.Response().Status
		s.metrics.requests.WithLabelValues(verb, resource, strconv.Itoa(code)).Inc()
		if verb != verbWatch {
			s.metrics.latency.WithLabelValues(verb, resource).Observe(time.Since(start).Seconds())
		}
		return nil
	}
}

func (s *Server) serveHealth(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// versionInfo is Kubernetes' version.Info.
type versionInfo struct {
	Major        string `json:"major"`
	Minor        string `json:"minor"`
	GitVersion   string `json:"gitVersion"`
	GitCommit    string `json:"gitCommit"`
	GitTreeState string `json:"gitTreeState"`
	BuildDate    string `json:"buildDate"`
	GoVersion    string `json:"goVersion"`
	Compiler     string `json:"compiler"`
	Platform     string `json:"platform"`
}

// KubernetesVersion is the Kubernetes API version Wharf's API follows, as
// /version reports it.
const KubernetesVersion = "v1.32.0"

func (s *Server) serveVersion(c echo.Context) error {
	return writeJSON(c, http.StatusOK, buildVersionInfo(s.cfg.Version))
}

// statusSuccess is the Status of a successful request without an object.
func statusSuccess(r *types.Resource, name string) *types.Status {
	st := &types.Status{
		TypeMeta: types.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   "Success",
		Code:     http.StatusOK,
	}
	if r != nil {
		st.Details = details(r, name)
	}
	return st
}

// serveAccessReview answers SelfSubjectAccessReviews (kubectl auth can-i):
// Wharf has no authorization, so every request is allowed. The body (JSON
// or, from kubectl, protobuf) is read but not needed for the answer.
func (s *Server) serveAccessReview(c echo.Context) error {
	if _, err := s.readBody(c); err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, map[string]any{
		"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
		"metadata": map[string]any{}, "spec": map[string]any{},
		"status": map[string]any{"allowed": true, "reason": "Wharf has no authorization: every request is allowed"},
	})
}
