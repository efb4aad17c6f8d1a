package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// Service addresses, allocated by the API server as Kubernetes' does: a
// Service of type ClusterIP, NodePort or LoadBalancer without a clusterIP
// gets a free address of Config.ServiceCIDR (the network address and the
// first host, which Kubernetes gives its own "kubernetes" Service, are
// never handed out), and each port of a NodePort or LoadBalancer Service
// without a nodePort gets a free one of 30000-32767. Addresses and ports
// asked for explicitly must be free. Allocation reads the Services in the
// store under a mutex held until the write, so one server never hands the
// same address out twice; Wharf runs one API server.
//
// An update that leaves clusterIP, clusterIPs, ipFamilies or a port's
// nodePort empty keeps the allocated ones (as Kubernetes does for PUTs of
// objects written without them); a change to ExternalName drops them.

// DefaultServiceCIDR is Config.ServiceCIDR's default, Kubernetes' own.
var DefaultServiceCIDR = netip.MustParsePrefix("10.96.0.0/12")

// Node ports Services get, as Kubernetes' default --service-node-port-range.
const (
	minNodePort = 30000
	maxNodePort = 32767
)

// serviceAllocated is what the stored Services use.
type serviceAllocated struct {
	ips   map[netip.Addr]string // address -> namespace/name
	ports map[int32]string      // node port -> namespace/name
}

// usedByServices lists the addresses and node ports of the stored
// Services other than namespace/name.
func (s *Server) usedByServices(ctx context.Context, r *types.Resource, namespace, name string) (serviceAllocated, error) {
	used := serviceAllocated{ips: map[netip.Addr]string{}, ports: map[int32]string{}}
	res, err := s.store.List(ctx, storagePrefix(r, ""), storage.ListOptions{})
	if err != nil {
		return used, fmt.Errorf("list services: %w", err)
	}
	for _, kv := range res.Items {
		obj, err := decodeStored(r, kv)
		if err != nil {
			return used, err
		}
		svc := obj.(*types.Service)
		if svc.Namespace == namespace && svc.Name == name {
			continue
		}
		who := svc.Namespace + "/" + svc.Name
		for _, ip := range append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...) {
			if a, err := netip.ParseAddr(ip); err == nil {
				used.ips[a] = who
			}
		}
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				used.ports[p.NodePort] = who
			}
		}
	}
	return used, nil
}

func needsClusterIP(svc *types.Service) bool {
	return svc.Spec.Type != types.ServiceTypeExternalName && svc.Spec.ClusterIP != types.ClusterIPNone
}

func needsNodePorts(svc *types.Service) bool {
	return svc.Spec.Type == types.ServiceTypeNodePort ||
		(svc.Spec.Type == types.ServiceTypeLoadBalancer &&
			(svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts))
}

// allocateService fills svc's clusterIP and node ports; the caller holds
// s.svcMu until svc is written.
func (s *Server) allocateService(ctx context.Context, r *types.Resource, svc *types.Service) error {
	used, err := s.usedByServices(ctx, r, svc.Namespace, svc.Name)
	if err != nil {
		return err
	}
	sp := &svc.Spec
	if needsClusterIP(svc) {
		if sp.ClusterIP == "" && len(sp.ClusterIPs) > 0 {
			sp.ClusterIP = sp.ClusterIPs[0]
		}
		if sp.ClusterIP == "" {
			ip, ok := s.freeServiceIP(used.ips)
			if !ok {
				return serviceInvalid(svc, "spec.clusterIPs", "[]", "failed to allocate IP: range is full")
			}
			sp.ClusterIP = ip.String()
		} else if a, err := netip.ParseAddr(sp.ClusterIP); err == nil {
			if who, taken := used.ips[a]; taken {
				return serviceInvalid(svc, "spec.clusterIPs", fmt.Sprintf("[]string{%q}", sp.ClusterIP),
					fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated (to %s)", sp.ClusterIP, who))
			}
			if !s.cfg.ServiceCIDR.Contains(a) {
				return serviceInvalid(svc, "spec.clusterIPs", fmt.Sprintf("[]string{%q}", sp.ClusterIP),
					fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s",
						sp.ClusterIP, sp.ClusterIP, s.cfg.ServiceCIDR))
			}
		}
		if len(sp.ClusterIPs) == 0 {
			sp.ClusterIPs = []string{sp.ClusterIP}
		}
		if len(sp.IPFamilies) == 0 {
			sp.IPFamilies = []types.IPFamily{types.IPv4Protocol}
			if a, err := netip.ParseAddr(sp.ClusterIP); err == nil && a.Is6() {
				sp.IPFamilies = []types.IPFamily{types.IPv6Protocol}
			}
		}
		if sp.IPFamilyPolicy == nil {
			p := types.IPFamilyPolicySingleStack
			sp.IPFamilyPolicy = &p
		}
	}
	if needsNodePorts(svc) {
		mine := map[int32]bool{}
		for i := range sp.Ports {
			p := &sp.Ports[i]
			if p.NodePort == 0 {
				continue
			}
			if who, taken := used.ports[p.NodePort]; taken || mine[p.NodePort] {
				if !taken {
					who = "another port of this Service"
				}
				return serviceInvalid(svc, fmt.Sprintf("spec.ports[%d].nodePort", i), fmt.Sprint(p.NodePort),
					fmt.Sprintf("provided port is already allocated (to %s)", who))
			}
			mine[p.NodePort] = true
		}
		for i := range sp.Ports {
			p := &sp.Ports[i]
			if p.NodePort != 0 {
				continue
			}
			port, ok := freeNodePort(used.ports, mine)
			if !ok {
				return serviceInvalid(svc, fmt.Sprintf("spec.ports[%d].nodePort", i), "0", "failed to allocate a node port: range is full")
			}
			p.NodePort, mine[port] = port, true
		}
	}
	return nil
}

// freeServiceIP picks a free address of the service range, from a random
// start, skipping the network address and the first host.
func (s *Server) freeServiceIP(used map[netip.Addr]string) (netip.Addr, bool) {
	prefix := s.cfg.ServiceCIDR.Masked()
	hostBits := prefix.Addr().BitLen() - prefix.Bits()
	size := uint64(1) << min(hostBits, 62)
	if size < 4 {
		return netip.Addr{}, false
	}
	// Offsets 2 .. size-2: not the network, not .1, not the broadcast.
	span := size - 3
	start := rand.Uint64N(span)
	for i := uint64(0); i < span && i < 1<<20; i++ {
		a := addOffset(prefix.Addr(), 2+(start+i)%span)
		if _, taken := used[a]; !taken {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// addOffset returns a + off.
func addOffset(a netip.Addr, off uint64) netip.Addr {
	b := a.AsSlice()
	for i := len(b) - 1; i >= 0 && off > 0; i-- {
		sum := uint64(b[i]) + off&0xff
		b[i] = byte(sum)
		off = off>>8 + sum>>8
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

func freeNodePort(used map[int32]string, mine map[int32]bool) (int32, bool) {
	span := int32(maxNodePort - minNodePort + 1)
	start := rand.Int32N(span)
	for i := range span {
		p := minNodePort + (start+i)%span
		if _, taken := used[p]; !taken && !mine[p] {
			return p, true
		}
	}
	return 0, false
}

// keepServiceAllocations carries the allocated clusterIP, clusterIPs,
// ipFamilies and node ports of old over to an update that left them
// empty.
func keepServiceAllocations(svc, old *types.Service) {
	sp, op := &svc.Spec, &old.Spec
	if needsClusterIP(svc) && sp.ClusterIP == "" && len(sp.ClusterIPs) == 0 && needsClusterIP(old) {
		sp.ClusterIP, sp.ClusterIPs = op.ClusterIP, append([]string(nil), op.ClusterIPs...)
		if len(sp.IPFamilies) == 0 {
			sp.IPFamilies = append([]types.IPFamily(nil), op.IPFamilies...)
		}
		if sp.IPFamilyPolicy == nil {
			sp.IPFamilyPolicy = op.IPFamilyPolicy
		}
	}
	if needsNodePorts(svc) {
		for i := range sp.Ports {
			p := &sp.Ports[i]
			if p.NodePort != 0 {
				continue
			}
			for _, o := range op.Ports {
				if o.Port == p.Port && o.Protocol == p.Protocol && o.NodePort != 0 {
					p.NodePort = o.NodePort
				}
			}
		}
	}
}

// checkClusterIPUnchanged refuses an update that changes an allocated
// clusterIP (Kubernetes: "field is immutable"), except to drop it by
// turning the Service into an ExternalName one.
func checkClusterIPUnchanged(svc, old *types.Service) error {
	if !needsClusterIP(svc) || !needsClusterIP(old) || old.Spec.ClusterIP == "" || svc.Spec.ClusterIP == old.Spec.ClusterIP {
		return nil
	}
	return serviceInvalid(svc, "spec.clusterIP", fmt.Sprintf("%q", svc.Spec.ClusterIP), "field is immutable")
}

func serviceInvalid(svc *types.Service, field, value, msg string) error {
	full := fmt.Sprintf("Invalid value: %s: %s", value, msg)
	return newStatusError(http.StatusUnprocessableEntity, types.StatusReasonInvalid,
		fmt.Sprintf("Service %q is invalid: %s: %s", svc.Name, field, full),
		&types.StatusDetails{Name: svc.Name, Kind: "Service", Causes: []types.StatusCause{{
			Type: "FieldValueInvalid", Message: full, Field: field}}})
}
