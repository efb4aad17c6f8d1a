package framework

import (
	"sort"
	"strconv"
	"strings"
)

// SummarizeReasons counts the reasons of the given refusals and lists them
// most frequent first (ties in alphabetical order), as in "2 Insufficient
// memory, 2 node(s) didn't match Pod's node affinity/selector, 1 node(s)
// had untolerated taint {gpu: true}". A node refused for several reasons
// (cpu and memory) counts under each.
func SummarizeReasons(statuses map[string]*Status) string {
	counts := map[string]int{}
	for _, st := range statuses {
		for _, r := range st.Reasons() {
			counts[r]++
		}
	}
	type rc struct {
		reason string
		n      int
	}
	list := make([]rc, 0, len(counts))
	for r, n := range counts {
		list = append(list, rc{r, n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].reason < list[j].reason
	})
	var b strings.Builder
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(e.n))
		b.WriteByte(' ')
		b.WriteString(e.reason)
	}
	return b.String()
}
