package job

import (
	"sort"
	"strconv"
	"strings"
)

// indexSet is a set of completion indexes, written as Kubernetes writes
// status.completedIndexes: sorted ranges "1,3-5".
type indexSet map[int]struct{}

// parseIndexes reads "1,3-5"; malformed parts and indexes at or above
// limit (when limit >= 0) are skipped.
func parseIndexes(s string, limit int) indexSet {
	out := indexSet{}
	if s == "" {
		return out
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				continue
			}
		}
		if limit >= 0 {
			b = min(b, limit-1)
		}
		for i := a; i <= b; i++ {
			out[i] = struct{}{}
		}
	}
	return out
}

func (s indexSet) add(i int)      { s[i] = struct{}{} }
func (s indexSet) has(i int) bool { _, ok := s[i]; return ok }
func (s indexSet) len() int       { return len(s) }

// String formats the set as sorted ranges.
func (s indexSet) String() string {
	idx := make([]int, 0, len(s))
	for i := range s {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(idx[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return b.String()
}
