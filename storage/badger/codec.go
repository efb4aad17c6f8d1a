package badger

import (
	"encoding/binary"
	"fmt"

	"github.com/wharfhq/wharf/storage"
)

// On-disk layout. Every Badger key version is a Wharf revision (managed
// mode: the commit timestamp of a write is its revision).
//
//	k/<key>        object; value = uvarint(createRevision) ++ user value
//	e/<rev:8 BE>   event log entry written in the same transaction as the
//	               object; value = event type byte ++ key. The value and the
//	               previous value are read back from the object's versions
//	               at rev and rev-1, so the log costs a few bytes per write.
//	m/compact      the compacted revision (8 bytes BE), written before any
//	               history is dropped.
const (
	objPrefix = "k/"
	evPrefix  = "e/"
)

var (
	evPrefixBytes  = []byte(evPrefix)
	metaCompactKey = []byte("m/compact")
)

func objKey(key string) []byte {
	b := make([]byte, 0, len(objPrefix)+len(key))
	b = append(b, objPrefix...)
	return append(b, key...)
}

func evKey(rev int64) []byte {
	b := make([]byte, len(evPrefix)+8)
	copy(b, evPrefix)
	binary.BigEndian.PutUint64(b[len(evPrefix):], uint64(rev))
	return b
}

func evKeyRev(k []byte) (int64, error) {
	if len(k) != len(evPrefix)+8 {
		return 0, fmt.Errorf("event log key %q: bad length %d", k, len(k))
	}
	return int64(binary.BigEndian.Uint64(k[len(evPrefix):])), nil
}

// encodeObj returns the stored form of an object and the user value as a
// sub-slice of it, so that the event delivered to watchers shares the one
// copy made of the caller's bytes.
func encodeObj(createRev int64, value []byte) (stored, userValue []byte) {
	b := make([]byte, 0, binary.MaxVarintLen64+len(value))
	b = binary.AppendUvarint(b, uint64(createRev))
	n := len(b)
	b = append(b, value...)
	return b, b[n:len(b):len(b)]
}

func decodeObj(b []byte) (createRev int64, value []byte, err error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("object header: bad create revision varint")
	}
	return int64(v), b[n:], nil
}

func encodeEvent(t storage.EventType, key string) []byte {
	b := make([]byte, 0, 1+len(key))
	b = append(b, byte(t))
	return append(b, key...)
}

func decodeEvent(b []byte) (storage.EventType, string, error) {
	if len(b) < 1 {
		return 0, "", fmt.Errorf("event log entry: empty")
	}
	t := storage.EventType(b[0])
	if t != storage.EventPut && t != storage.EventDelete {
		return 0, "", fmt.Errorf("event log entry: unknown type %d", b[0])
	}
	return t, string(b[1:]), nil
}

func encodeRev(rev int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(rev))
}

func decodeRev(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("revision: bad length %d", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}
