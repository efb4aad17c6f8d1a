package server

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// pb builds protobuf bytes for the tests.
type pb []byte

func (b pb) bytes(num uint64, v []byte) pb {
	b = binary.AppendUvarint(b, num<<3|wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func (b pb) varint(num, v uint64) pb {
	b = binary.AppendUvarint(b, num<<3|wireVarint)
	return binary.AppendUvarint(b, v)
}

func envelope(apiVersion, kind string, raw pb) []byte {
	tm := pb{}.bytes(1, []byte(apiVersion)).bytes(2, []byte(kind))
	return append([]byte("k8s\x00"), pb{}.bytes(1, tm).bytes(2, raw)...)
}

func TestProtobufToJSON(t *testing.T) {
	meta := pb{}.bytes(1, []byte("cm")).bytes(2, nil).varint(7, 0).
		bytes(11, pb{}.bytes(1, []byte("app")).bytes(2, []byte("web")))
	tests := []struct {
		name, want, err string
		body            []byte
	}{
		{"configmap with zero unknown fields dropped",
			`{"apiVersion":"v1","data":{"a":"b"},"kind":"ConfigMap","metadata":{"labels":{"app":"web"},"name":"cm"}}`, "",
			envelope("v1", "ConfigMap", pb{}.bytes(1, meta).bytes(2, pb{}.bytes(1, []byte("a")).bytes(2, []byte("b"))).
				bytes(40, pb{}.varint(1, 0).bytes(2, nil)).varint(41, 0))},
		{"explicit zero replicas kept",
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":0}}`, "",
			envelope("apps/v1", "Deployment", pb{}.bytes(1, pb{}.bytes(1, []byte("d"))).bytes(2, pb{}.varint(1, 0)))},
		{"unknown non-zero field refused", "", "field number 40",
			envelope("v1", "ConfigMap", pb{}.bytes(1, meta).bytes(40, []byte("data")))},
		{"unknown kind refused", "", "v1 Node is not decoded", envelope("v1", "Node", nil)},
		{"unmodelled field refused by name", "",
			`Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.shareProcessNamespace"`,
			envelope("v1", "Pod", pb{}.bytes(2, pb{}.varint(27, 1)))},
		{"unmodelled field in an inline message", "", `unknown field "spec.volumes.gitRepo"`,
			envelope("v1", "Pod", pb{}.bytes(2, pb{}.bytes(1, pb{}.bytes(1, []byte("v")).bytes(2, pb{}.bytes(5, pb{}.bytes(1, []byte("r")))))))},
		{"unmodelled zero field dropped", `{"apiVersion":"v1","kind":"Pod"}`, "",
			envelope("v1", "Pod", pb{}.bytes(2, pb{}.varint(27, 0)))},
		{"no magic", "", "prefix", []byte("{}")},
		{"truncated", "", "bad length", append(envelope("v1", "ConfigMap", nil), 0x12, 0x7f)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := protobufToJSON(tc.body)
			if tc.err != "" {
				if !errors.Is(err, errProtobuf) && !errors.Is(err, errProtobufUnsupported) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
}
