package job

import "testing"

func TestIndexSet(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"", -1, ""},
		{"0", -1, "0"},
		{"1,3-5", -1, "1,3-5"},
		{"5,4,3,1", -1, "1,3-5"},
		{"0-2,3", -1, "0-3"},
		{"0-9", 4, "0-3"},
		{"x,2,3-a,7-5", -1, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseIndexes(tt.in, tt.limit).String(); got != tt.want {
				t.Fatalf("parseIndexes(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}
