package server

import (
	"net/http"
	"net/http/pprof"

	"github.com/labstack/echo/v4"
)

// addProfiling serves net/http/pprof's handlers under /debug/pprof/, as
// kube-apiserver does with --profiling: `go tool pprof
// http://SERVER/debug/pprof/profile?seconds=30` profiles the whole process
// (the controllers, the scheduler and, in wharf up, the agent too).
func addProfiling(e *echo.Echo) {
	e.GET("/debug/pprof/cmdline", echo.WrapHandler(http.HandlerFunc(pprof.Cmdline)))
	e.GET("/debug/pprof/profile", echo.WrapHandler(http.HandlerFunc(pprof.Profile)))
	e.GET("/debug/pprof/symbol", echo.WrapHandler(http.HandlerFunc(pprof.Symbol)))
	e.POST("/debug/pprof/symbol", echo.WrapHandler(http.HandlerFunc(pprof.Symbol)))
	e.GET("/debug/pprof/trace", echo.WrapHandler(http.HandlerFunc(pprof.Trace)))
	e.GET("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(pprof.Index)))
	e.GET("/debug/pprof", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/debug/pprof/")
	})
}
