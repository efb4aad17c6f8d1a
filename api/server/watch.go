package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/fields"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// initialEventsEndAnnotation marks the bookmark that ends the initial
// events of a sendInitialEvents=true watch (Kubernetes' WatchList).
const initialEventsEndAnnotation = "k8s.io/initial-events-end"

// watchStream writes one watch response: newline-delimited JSON
// WatchEvents, flushed one by one.
type watchStream struct {
	c     echo.Context
	r     *types.Resource
	s     *Server
	table bool
	// headerSent: the Table column definitions went out with the first
	// event; later events omit them, as Kubernetes does.
	headerSent bool
	includeObj string
	// ri converts objects to the version of the request (versions.go).
	ri *requestInfo
}

func (w *watchStream) send(typ string, obj types.Object) error {
	var raw []byte
	var err error
	if w.table && typ != types.Bookmark && typ != types.Error {
		t, terr := w.s.tableFor(w.ri, []types.Object{obj}, types.ListMeta{ResourceVersion: obj.GetObjectMeta().ResourceVersion}, w.includeObj)
		if terr != nil {
			return terr
		}
		if w.headerSent {
			t.ColumnDefinitions = nil
		}
		w.headerSent = true
		raw, err = json.Marshal(t)
	} else {
		if obj, err = toServed(w.ri, obj); err != nil {
			return err
		}
		raw, err = json.Marshal(obj)
	}
	if err != nil {
		return err
	}
	return w.write(typ, raw)
}

// sendEvent sends the event of store event ev; the JSON line of a plain
// (not Table) stream is encoded once for all the watches (eventCache).
func (w *watchStream) sendEvent(typ string, obj types.Object, ev storage.Event) error {
	if w.table || w.ri.Conv != nil {
		// Lines of another version than the stored one are not shared.
		return w.send(typ, obj)
	}
	line, err := w.s.events.line(ev.KV.Key, ev.KV.ModRevision, typ, func() ([]byte, error) {
		raw, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		return eventLine(typ, raw)
	})
	if err != nil {
		return err
	}
	return w.writeLine(line)
}

// eventLine encodes one WatchEvent as a newline-terminated JSON line.
func eventLine(typ string, raw json.RawMessage) ([]byte, error) {
	line, err := json.Marshal(types.WatchEvent{Type: typ, Object: raw})
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

func (w *watchStream) write(typ string, raw json.RawMessage) error {
	line, err := eventLine(typ, raw)
	if err != nil {
		return err
	}
	return w.writeLine(line)
}

// writeLine writes and flushes one event line.
func (w *watchStream) writeLine(line []byte) error {
	resp := w.c.Response()
	if _, err := resp.Write(line); err != nil {
		return err
	}
	resp.Flush()
	return nil
}

func (w *watchStream) sendStatus(st *types.Status) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return w.write(types.Error, raw)
}

// bookmark sends a BOOKMARK event: an empty object of the kind carrying
// only a resourceVersion (and annotations).
func (w *watchStream) bookmark(rev int64, annotations map[string]string) error {
	obj := w.r.New()
	setTypeMeta(obj, w.r)
	obj.GetObjectMeta().ResourceVersion = formatRV(rev)
	obj.GetObjectMeta().Annotations = annotations
	return w.send(types.Bookmark, obj)
}

// watch serves ?watch=1 and /watch/ requests.
func (s *Server) watch(c echo.Context, ri *requestInfo) error {
	q := c.Request().URL.Query()
	if ri.Name != "" {
		q.Set("fieldSelector", joinSelector(q.Get("fieldSelector"), "metadata.name="+fields.EscapeValue(ri.Name)))
	}
	sel, err := parseSelectors(ri.Resource, q)
	if err != nil {
		return err
	}
	rv, err := parseRV(q.Get("resourceVersion"))
	if err != nil {
		return err
	}
	timeout := s.cfg.WatchTimeout
	if ts := q.Get("timeoutSeconds"); ts != "" {
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || n < 0 {
			return errBadRequest("invalid timeoutSeconds %q: want a non-negative integer", ts)
		}
		if n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	bookmarks := isTrue(q.Get("allowWatchBookmarks"))
	sendInitial := isTrue(q.Get("sendInitialEvents"))
	ctx, cancel := context.WithTimeout(c.Request().Context(), timeout)
	defer cancel()

	// Without a resourceVersion ("" or "0"), or with sendInitialEvents,
	// the watch starts with the current state as ADDED events.
	var initial []types.Object
	start := rv
	if rv == 0 || sendInitial {
		lq := url.Values(cloneValues(q))
		lq.Del("resourceVersion")
		lq.Del("resourceVersionMatch")
		lq.Del("limit")
		lq.Del("continue")
		res, err := s.listObjects(ctx, ri, lq, sel)
		if err != nil {
			return err
		}
		initial, start = res.objs, res.rev
	}
	w, err := s.store.Watch(ctx, storagePrefix(ri.Resource, ri.Namespace), start)
	stream := &watchStream{c: c, r: ri.Resource, s: s, table: negotiate(c, true) == outputTable,
		includeObj: q.Get("includeObject"), ri: ri}
	switch {
	case errors.Is(err, storage.ErrCompacted):
		// Kubernetes answers 200 and then one ERROR event with 410.
		s.startStream(c)
		return stream.sendStatus(&errTooOldRV(rv, 0).Status)
	case errors.Is(err, storage.ErrFutureRevision):
		return errTooLargeRV(rv)
	case err != nil:
		return err
	}
	defer w.Stop()
	label := ri.resourceLabel()
	s.metrics.watches.WithLabelValues(label).Inc()
	defer s.metrics.watches.WithLabelValues(label).Dec()

	s.startStream(c)
	for _, obj := range initial {
		if err := stream.send(types.Added, obj); err != nil {
			return nil
		}
	}
	if sendInitial && bookmarks {
		if err := stream.bookmark(start, map[string]string{initialEventsEndAnnotation: "true"}); err != nil {
			return nil
		}
	}
	var tick <-chan time.Time
	if bookmarks {
		t := time.NewTicker(s.cfg.BookmarkInterval)
		defer t.Stop()
		tick = t.C
	}
	last := start
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.stopping:
			return nil
		case <-tick:
			if err := stream.bookmark(last, nil); err != nil {
				return nil
			}
		case ev, ok := <-w.Events():
			if !ok {
				if werr := w.Err(); errors.Is(werr, storage.ErrCompacted) {
					_ = stream.sendStatus(&errTooOldRV(last, 0).Status)
				} else if werr != nil && ctx.Err() == nil {
					s.log.Info("watch ended by the store", "resource", label, "err", werr)
				}
				return nil
			}
			last = ev.KV.ModRevision
			typ, obj, err := s.watchEvent(ri.Resource, ev, sel)
			if err != nil {
				_ = stream.sendStatus(toStatus(err))
				return nil
			}
			if typ == "" {
				continue
			}
			if err := stream.sendEvent(typ, obj, ev); err != nil {
				return nil
			}
		}
	}
}

// startStream writes the 200 header of a watch.
func (s *Server) startStream(c echo.Context) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, mediaJSON)
	h.Set("Cache-Control", "no-cache, private")
	c.Response().WriteHeader(http.StatusOK)
	c.Response().Flush()
}

// watchEvent turns a store event into the watch event a client with
// selector sel sees: objects entering the selection are ADDED, leaving it
// DELETED; typ is "" when the client sees nothing.
func (s *Server) watchEvent(r *types.Resource, ev storage.Event, sel selectors) (string, types.Object, error) {
	// Decoded objects are shared with the other watches (eventCache):
	// copy before changing.
	var prev types.Object
	if ev.Prev != nil && len(ev.Prev.Value) > 0 {
		p, err := s.events.decode(r, *ev.Prev)
		if err != nil {
			return "", nil, err
		}
		prev = p
	}
	if ev.Type == storage.EventDelete {
		if prev == nil || !sel.matches(prev) {
			return "", nil, nil
		}
		prev = shallowCopy(prev)
		prev.GetObjectMeta().ResourceVersion = formatRV(ev.KV.ModRevision)
		return types.Deleted, prev, nil
	}
	cur, err := s.events.decode(r, ev.KV)
	if err != nil {
		return "", nil, err
	}
	curMatch := sel.matches(cur)
	prevMatch := prev != nil && sel.matches(prev)
	switch {
	case curMatch && prevMatch:
		return types.Modified, cur, nil
	case curMatch:
		return types.Added, cur, nil
	case prevMatch:
		// As Kubernetes' watch cache: the object as the watcher last saw
		// it, at the revision of the change that took it out.
		prev = shallowCopy(prev)
		prev.GetObjectMeta().ResourceVersion = formatRV(ev.KV.ModRevision)
		return types.Deleted, prev, nil
	}
	return "", nil, nil
}

func joinSelector(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

func cloneValues(q map[string][]string) map[string][]string {
	out := make(map[string][]string, len(q))
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
