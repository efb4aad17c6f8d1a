package controller

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"

	"github.com/wharfhq/wharf/api/types"
)

// PodTemplateHashLabel is the label a Deployment puts on its ReplicaSets,
// their selectors and their Pods.
const PodTemplateHashLabel = "pod-template-hash"

// safeAlphabet is Kubernetes' rand.SafeEncodeString alphabet (no vowels,
// no confusable characters), so hashes never spell words.
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// ComputeHash returns the pod-template-hash of template: an FNV-32a hash of
// its JSON encoding (deterministic: struct fields in order, map keys
// sorted) and of collisionCount when set, in the safe alphabet. It is not
// byte-for-byte Kubernetes' (which hashes a Go pretty-printing), but it is
// stable across restarts and changes whenever the template does.
func ComputeHash(template *types.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	b, err := json.Marshal(template)
	if err != nil {
		// A PodTemplateSpec always marshals; hash its Go form if not.
		b = []byte(err.Error())
	}
	h.Write(b)
	if collisionCount != nil {
		var c [4]byte
		binary.LittleEndian.PutUint32(c[:], uint32(*collisionCount))
		h.Write(c[:])
	}
	sum := h.Sum32()
	out := make([]byte, 0, 10)
	for sum > 0 || len(out) == 0 {
		out = append(out, safeAlphabet[sum%uint32(len(safeAlphabet))])
		sum /= uint32(len(safeAlphabet))
	}
	return string(out)
}
