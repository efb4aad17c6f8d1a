package server

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf),
// for the kinds kubectl 1.32 creates from its typed clients: `kubectl create
// namespace|configmap|secret|serviceaccount|service|deployment|job|cronjob|
// ingress` send protobuf and client-go does not retry in JSON.
//
// The body is "k8s\x00" then a runtime.Unknown message holding the
// apiVersion, kind and the object's own message. The object is turned into
// the JSON document the same object has, using the field numbers of
// Kubernetes' generated.proto files for the fields Wharf models, and then
// decoded like any JSON body (strictly). Written by hand rather than with
// google.golang.org/protobuf: there are no Go types generated for these
// messages here, and the wire format is a few lines.
//
// Kubernetes' generated marshallers write every non-pointer field, zero or
// not; a field that is not in the tables below is accepted only when it
// holds nothing but zero values (then it is dropped, as JSON's omitempty
// would), otherwise the request fails naming its number, never silently
// losing data. Zero values of known fields are dropped too, except for the
// pointer fields marked keepZero (spec.replicas: 0 is not "unset").
// Responses are always JSON (kubectl accepts both).

var protobufMagic = []byte("k8s\x00")

// pkind is how a proto field maps to JSON.
type pkind int

const (
	pString      pkind = iota // string
	pBytes                    // bytes as base64 (Secret data)
	pInt                      // varint int32/int64
	pBool                     // varint bool
	pMsg                      // nested message
	pMapString                // map<string, string>
	pMapBytes                 // map<string, bytes>
	pMapQuantity              // map<string, resource.Quantity>
	pTime                     // metav1.Time {seconds, nanos}
	pQuantity                 // resource.Quantity {string}
	pIntOrString              // intstr.IntOrString {type, intVal, strVal}
)

// pfield is one field of a message.
type pfield struct {
	name string
	kind pkind
	// rep marks a repeated field (a JSON array).
	rep bool
	// msg is the message of a pMsg field.
	msg pmsg
	// inline merges a pMsg field's fields into its parent (Go's inline
	// embedding, IngressRule.IngressRuleValue).
	inline bool
	// keepZero keeps a zero value (pointer fields).
	keepZero bool
}

// pmsg is a message: field number to field. Built lazily (messages refer
// to each other) by the functions below.
type pmsg map[uint64]pfield

func f(name string, kind pkind) pfield { return pfield{name: name, kind: kind} }
func fr(name string, kind pkind) pfield {
	return pfield{name: name, kind: kind, rep: true}
}
func fm(name string, m pmsg) pfield  { return pfield{name: name, kind: pMsg, msg: m} }
func fmr(name string, m pmsg) pfield { return pfield{name: name, kind: pMsg, msg: m, rep: true} }

// Messages of k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto.
var (
	pOwnerReference = pmsg{1: f("kind", pString), 3: f("name", pString), 4: f("uid", pString),
		5: f("apiVersion", pString), 6: f("controller", pBool), 7: f("blockOwnerDeletion", pBool)}
	pObjectMeta = pmsg{1: f("name", pString), 2: f("generateName", pString), 3: f("namespace", pString),
		5: f("uid", pString), 6: f("resourceVersion", pString), 7: f("generation", pInt),
		8: f("creationTimestamp", pTime), 11: f("labels", pMapString), 12: f("annotations", pMapString),
		13: fmr("ownerReferences", pOwnerReference), 14: fr("finalizers", pString)}
	pLabelSelector = pmsg{1: f("matchLabels", pMapString), 2: fmr("matchExpressions",
		pmsg{1: f("key", pString), 2: f("operator", pString), 3: fr("values", pString)})}
)

// Messages of k8s.io/api/core/v1/generated.proto.
var (
	pContainerPort = pmsg{1: f("name", pString), 2: f("hostPort", pInt), 3: f("containerPort", pInt),
		4: f("protocol", pString), 5: f("hostIP", pString)}
	pEnvVar    = pmsg{1: f("name", pString), 2: f("value", pString)}
	pResources = pmsg{1: f("limits", pMapQuantity), 2: f("requests", pMapQuantity)}
	pContainer = pmsg{1: f("name", pString), 2: f("image", pString), 3: fr("command", pString),
		4: fr("args", pString), 5: f("workingDir", pString), 6: fmr("ports", pContainerPort),
		7: fmr("env", pEnvVar), 8: fm("resources", pResources), 13: f("terminationMessagePath", pString),
		14: f("imagePullPolicy", pString), 16: f("stdin", pBool), 17: f("stdinOnce", pBool), 18: f("tty", pBool),
		20: f("terminationMessagePolicy", pString)}
	pPodSpec = pmsg{2: fmr("containers", pContainer), 3: f("restartPolicy", pString),
		4: {name: "terminationGracePeriodSeconds", kind: pInt, keepZero: true},
		5: f("activeDeadlineSeconds", pInt), 6: f("dnsPolicy", pString), 7: f("nodeSelector", pMapString),
		8: f("serviceAccountName", pString), 10: f("nodeName", pString), 11: f("hostNetwork", pBool),
		19: f("schedulerName", pString), 20: fmr("initContainers", pContainer), 29: f("runtimeClassName", pString)}
	pPodTemplateSpec = pmsg{1: fm("metadata", pObjectMeta), 2: fm("spec", pPodSpec)}
	pNamespace       = pmsg{1: fm("metadata", pObjectMeta), 2: fm("spec", pmsg{1: fr("finalizers", pString)})}
	pConfigMap       = pmsg{1: fm("metadata", pObjectMeta), 2: f("data", pMapString), 3: f("binaryData", pMapBytes),
		4: {name: "immutable", kind: pBool, keepZero: true}}
	pSecret = pmsg{1: fm("metadata", pObjectMeta), 2: f("data", pMapBytes), 3: f("type", pString),
		4: f("stringData", pMapString), 5: {name: "immutable", kind: pBool, keepZero: true}}
	pServiceAccount = pmsg{1: fm("metadata", pObjectMeta), 4: {name: "automountServiceAccountToken", kind: pBool, keepZero: true}}
	pServicePort    = pmsg{1: f("name", pString), 2: f("protocol", pString), 3: f("port", pInt),
		4: f("targetPort", pIntOrString), 5: f("nodePort", pInt)}
	pService = pmsg{1: fm("metadata", pObjectMeta), 2: fm("spec", pmsg{1: fmr("ports", pServicePort),
		2: f("selector", pMapString), 3: f("clusterIP", pString), 4: f("type", pString),
		5: fr("externalIPs", pString), 7: f("sessionAffinity", pString), 10: f("externalName", pString),
		18: fr("clusterIPs", pString)})}
)

// Messages of k8s.io/api/{apps,batch,networking}/v1/generated.proto.
var (
	pDeployment = pmsg{1: fm("metadata", pObjectMeta), 2: fm("spec", pmsg{
		1: {name: "replicas", kind: pInt, keepZero: true}, 2: fm("selector", pLabelSelector),
		3: fm("template", pPodTemplateSpec),
		4: fm("strategy", pmsg{1: f("type", pString), 2: fm("rollingUpdate",
			pmsg{1: f("maxUnavailable", pIntOrString), 2: f("maxSurge", pIntOrString)})}),
		5: f("minReadySeconds", pInt), 6: {name: "revisionHistoryLimit", kind: pInt, keepZero: true},
		7: f("paused", pBool), 9: {name: "progressDeadlineSeconds", kind: pInt, keepZero: true}})}
	pJobSpec = pmsg{1: {name: "parallelism", kind: pInt, keepZero: true}, 2: {name: "completions", kind: pInt, keepZero: true},
		3: f("activeDeadlineSeconds", pInt), 4: fm("selector", pLabelSelector), 5: f("manualSelector", pBool),
		6: fm("template", pPodTemplateSpec), 7: {name: "backoffLimit", kind: pInt, keepZero: true},
		8: {name: "ttlSecondsAfterFinished", kind: pInt, keepZero: true}, 9: f("completionMode", pString),
		10: {name: "suspend", kind: pBool, keepZero: true}}
	pJob     = pmsg{1: fm("metadata", pObjectMeta), 2: fm("spec", pJobSpec)}
	pCronJob = pmsg{1: fm("metadata", pObjectMeta), 2: fm("spec", pmsg{1: f("schedule", pString),
		2: f("startingDeadlineSeconds", pInt), 3: f("concurrencyPolicy", pString),
		4: {name: "suspend", kind: pBool, keepZero: true},
		5: fm("jobTemplate", pmsg{1: fm("metadata", pObjectMeta), 2: fm("spec", pJobSpec)}),
		6: {name: "successfulJobsHistoryLimit", kind: pInt, keepZero: true},
		7: {name: "failedJobsHistoryLimit", kind: pInt, keepZero: true}, 8: f("timeZone", pString)})}
	pIngressBackend = pmsg{4: fm("service", pmsg{1: f("name", pString),
		2: fm("port", pmsg{1: f("name", pString), 2: f("number", pInt)})})}
	pIngress = pmsg{1: fm("metadata", pObjectMeta), 2: fm("spec", pmsg{
		1: fm("defaultBackend", pIngressBackend),
		2: fmr("tls", pmsg{1: fr("hosts", pString), 2: f("secretName", pString)}),
		3: fmr("rules", pmsg{1: f("host", pString), 2: {name: "ingressRuleValue", kind: pMsg, inline: true, msg: pmsg{
			1: fm("http", pmsg{1: fmr("paths", pmsg{1: f("path", pString), 2: fm("backend", pIngressBackend),
				3: f("pathType", pString)})})}}}),
		4: f("ingressClassName", pString)})}
)

// protobufKinds are the kinds whose protobuf bodies are decoded, by
// apiVersion and kind.
var protobufKinds = map[string]pmsg{
	"v1/Namespace":                 pNamespace,
	"v1/ConfigMap":                 pConfigMap,
	"v1/Secret":                    pSecret,
	"v1/ServiceAccount":            pServiceAccount,
	"v1/Service":                   pService,
	"apps/v1/Deployment":           pDeployment,
	"batch/v1/Job":                 pJob,
	"batch/v1/CronJob":             pCronJob,
	"networking.k8s.io/v1/Ingress": pIngress,
}

// errProtobuf marks a protobuf body that cannot be turned into JSON.
var errProtobuf = errors.New("protobuf body")

// protobufToJSON turns a Kubernetes protobuf body into the object's JSON.
func protobufToJSON(body []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(body, protobufMagic)
	if !ok {
		return nil, fmt.Errorf("%w: missing the k8s\\x00 prefix", errProtobuf)
	}
	var apiVersion, kind string
	var raw []byte
	err := eachField(rest, func(num uint64, wt int, v uint64, b []byte) error {
		switch {
		case num == 1 && wt == wireBytes: // typeMeta
			return eachField(b, func(n uint64, wt int, _ uint64, s []byte) error {
				switch {
				case n == 1 && wt == wireBytes:
					apiVersion = string(s)
				case n == 2 && wt == wireBytes:
					kind = string(s)
				}
				return nil
			})
		case num == 2 && wt == wireBytes:
			raw = b
		case num == 3 && wt == wireBytes && len(b) > 0:
			return fmt.Errorf("%w: content encoding %q is not supported", errProtobuf, b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m, ok := protobufKinds[apiVersion+"/"+kind]
	if !ok {
		return nil, fmt.Errorf("%w: %s %s is not decoded from protobuf; send JSON or YAML", errProtobuf, apiVersion, kind)
	}
	obj, err := decodeMsg(raw, m, kind)
	if err != nil {
		return nil, err
	}
	obj["apiVersion"], obj["kind"] = apiVersion, kind
	return json.Marshal(obj)
}

// Wire types.
const (
	wireVarint = 0
	wireI64    = 1
	wireBytes  = 2
	wireI32    = 5
)

// eachField calls fn for every field of a message: its number, wire type,
// and value (v for varints and fixed ints, b for length-delimited).
func eachField(data []byte, fn func(num uint64, wt int, v uint64, b []byte) error) error {
	for len(data) > 0 {
		tag, n := binary.Uvarint(data)
		if n <= 0 {
			return fmt.Errorf("%w: bad field tag", errProtobuf)
		}
		data = data[n:]
		num, wt := tag>>3, int(tag&7)
		var v uint64
		var b []byte
		switch wt {
		case wireVarint:
			v, n = binary.Uvarint(data)
			if n <= 0 {
				return fmt.Errorf("%w: bad varint in field %d", errProtobuf, num)
			}
			data = data[n:]
		case wireI64:
			if len(data) < 8 {
				return fmt.Errorf("%w: short fixed64 in field %d", errProtobuf, num)
			}
			v, data = binary.LittleEndian.Uint64(data), data[8:]
		case wireI32:
			if len(data) < 4 {
				return fmt.Errorf("%w: short fixed32 in field %d", errProtobuf, num)
			}
			v, data = uint64(binary.LittleEndian.Uint32(data)), data[4:]
		case wireBytes:
			l, n := binary.Uvarint(data)
			if n <= 0 || l > uint64(len(data)-n) {
				return fmt.Errorf("%w: bad length in field %d", errProtobuf, num)
			}
			b, data = data[n:n+int(l)], data[n+int(l):]
		default:
			return fmt.Errorf("%w: unsupported wire type %d in field %d", errProtobuf, wt, num)
		}
		if num == 0 {
			return fmt.Errorf("%w: field number 0", errProtobuf)
		}
		if err := fn(num, wt, v, b); err != nil {
			return err
		}
	}
	return nil
}

// allZero reports whether an unknown field holds only zero values: a zero
// varint or fixed int, empty bytes, or a message of such fields.
func allZero(wt int, v uint64, b []byte) bool {
	switch wt {
	case wireVarint, wireI64, wireI32:
		return v == 0
	}
	if len(b) == 0 {
		return true
	}
	zero := true
	err := eachField(b, func(_ uint64, wt int, v uint64, b []byte) error {
		if !allZero(wt, v, b) {
			zero = false
		}
		return nil
	})
	return err == nil && zero
}

// decodeMsg decodes a message into its JSON object; path names it in
// errors.
func decodeMsg(data []byte, m pmsg, path string) (map[string]any, error) {
	out := map[string]any{}
	err := eachField(data, func(num uint64, wt int, v uint64, b []byte) error {
		fd, ok := m[num]
		if !ok {
			if allZero(wt, v, b) {
				return nil
			}
			return fmt.Errorf("%w: %s: field number %d is not supported by Wharf", errProtobuf, path, num)
		}
		val, keep, err := decodeValue(fd, wt, v, b, path+"."+fd.name)
		if err != nil || !keep {
			return err
		}
		switch {
		case fd.inline:
			for k, x := range val.(map[string]any) {
				out[k] = x
			}
		case fd.rep:
			list, _ := out[fd.name].([]any)
			out[fd.name] = append(list, val)
		case fd.kind == pMapString || fd.kind == pMapBytes || fd.kind == pMapQuantity:
			entry := val.([2]any)
			mp, _ := out[fd.name].(map[string]any)
			if mp == nil {
				mp = map[string]any{}
				out[fd.name] = mp
			}
			mp[entry[0].(string)] = entry[1]
		default:
			out[fd.name] = val
		}
		return nil
	})
	return out, err
}

// decodeValue decodes one field value; keep is false for a zero value to
// drop.
func decodeValue(fd pfield, wt int, v uint64, b []byte, path string) (any, bool, error) {
	wantBytes := fd.kind != pInt && fd.kind != pBool
	if wantBytes != (wt == wireBytes) || (!wantBytes && wt != wireVarint) {
		return nil, false, fmt.Errorf("%w: %s: unexpected wire type %d", errProtobuf, path, wt)
	}
	keep := fd.keepZero || fd.rep
	switch fd.kind {
	case pString:
		return string(b), keep || len(b) > 0, nil
	case pBytes:
		return base64.StdEncoding.EncodeToString(b), keep || len(b) > 0, nil
	case pInt:
		return int64(v), keep || v != 0, nil
	case pBool:
		return v != 0, keep || v != 0, nil
	case pMsg:
		obj, err := decodeMsg(b, fd.msg, path)
		return obj, keep || len(obj) > 0, err
	case pMapString, pMapBytes, pMapQuantity:
		var key string
		var val any
		err := eachField(b, func(n uint64, wt int, _ uint64, s []byte) error {
			switch {
			case n == 1 && wt == wireBytes:
				key = string(s)
			case n == 2 && wt == wireBytes && fd.kind == pMapString:
				val = string(s)
			case n == 2 && wt == wireBytes && fd.kind == pMapBytes:
				val = base64.StdEncoding.EncodeToString(s)
			case n == 2 && wt == wireBytes:
				q, _, err := decodeValue(pfield{kind: pQuantity}, wt, 0, s, path)
				if err != nil {
					return err
				}
				val = q
			}
			return nil
		})
		if val == nil {
			val = ""
		}
		return [2]any{key, val}, true, err
	case pTime:
		var secs, nanos int64
		err := eachField(b, func(n uint64, _ int, x uint64, _ []byte) error {
			switch n {
			case 1:
				secs = int64(x)
			case 2:
				nanos = int64(x)
			}
			return nil
		})
		if err != nil || secs <= zeroTimeSeconds {
			return nil, false, err
		}
		return time.Unix(secs, nanos).UTC().Format(time.RFC3339), true, nil
	case pQuantity:
		var s string
		err := eachField(b, func(n uint64, wt int, _ uint64, x []byte) error {
			if n == 1 && wt == wireBytes {
				s = string(x)
			}
			return nil
		})
		return s, s != "", err
	case pIntOrString:
		var typ, iv uint64
		var sv string
		err := eachField(b, func(n uint64, _ int, x uint64, s []byte) error {
			switch n {
			case 1:
				typ = x
			case 2:
				iv = x
			case 3:
				sv = string(s)
			}
			return nil
		})
		if typ == 1 {
			return sv, keep || sv != "", err
		}
		return int64(int32(iv)), keep || iv != 0, err
	}
	return nil, false, fmt.Errorf("%w: %s: unknown field kind", errProtobuf, path)
}

// zeroTimeSeconds is time.Time{}.Unix(): Kubernetes writes an unset
// metav1.Time as a Timestamp of the zero time.
const zeroTimeSeconds = -62135596800
