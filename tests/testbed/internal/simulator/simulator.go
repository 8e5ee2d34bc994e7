// Package simulator is a SIMULATOR of the Cozystack controllers (Flux
// helm-controller rendering the app charts, KubeVirt, the cloud load
// balancer). Nothing here runs a VM: it only moves the app objects through
// the states a real cluster shows, with delays:
//
//   - status.conditions Ready/Released (Unknown while "installing", then
//     True, or False with a message naming the problem when the spec breaks
//     a chart rule) and status.version, after --ready-delay;
//   - a LoadBalancer Service named like Cozystack's (vm-instance-<name>, or
//     virtual-machine-<name> for the v0 VirtualMachine) for external VMs,
//     with a fake TEST-NET-1 ingress IP;
//   - asynchronous deletion: the proxy puts a finalizer on every app, the
//     simulator removes it (and the Service) --delete-delay after the
//     deletionTimestamp appears;
//   - Kubernetes apps always keep an md0 node group (Helm merges the chart's
//     md0 into the user's map up to Cozystack v1.5).
package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/catalog"
	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/crds"
	"github.com/hikube/terraform-provider-hikube/tests/testbed/internal/proxy"
)

// Config configures the simulator.
type Config struct {
	Profile     crds.Profile
	Dynamic     dynamic.Interface
	Core        kubernetes.Interface
	Catalog     *catalog.Catalog
	ReadyDelay  time.Duration
	DeleteDelay time.Duration
	Log         *log.Logger
}

type key struct{ plural, ns, name string }

type seen struct {
	gen     int64
	at      time.Time
	upgrade bool // a release existed when this generation appeared
}

// Simulator reconciles app objects.
type Simulator struct {
	cfg       Config
	queue     workqueue.TypedRateLimitingInterface[key]
	informers map[string]cache.SharedIndexInformer
	mu        sync.Mutex
	seen      map[key]seen
}

func gvr(plural string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: crds.Group, Version: crds.Version, Resource: plural}
}

// Start runs the simulator until ctx ends; it returns once caches synced.
func Start(ctx context.Context, cfg Config) (*Simulator, error) {
	s := &Simulator{
		cfg:       cfg,
		queue:     workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[key]()),
		informers: map[string]cache.SharedIndexInformer{},
		seen:      map[key]seen{},
	}
	f := dynamicinformer.NewDynamicSharedInformerFactory(cfg.Dynamic, 0)
	for _, k := range crds.Kinds(cfg.Profile) {
		plural := k.Plural
		inf := f.ForResource(gvr(plural)).Informer()
		s.informers[plural] = inf
		enq := func(obj interface{}) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				return
			}
			s.queue.Add(key{plural, u.GetNamespace(), u.GetName()})
			if plural == crds.VMDisk.Plural {
				s.enqueueInstances(u.GetNamespace())
			}
		}
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: enq, UpdateFunc: func(_, n interface{}) { enq(n) }, DeleteFunc: enq,
		})
	}
	f.Start(ctx.Done())
	for _, inf := range s.informers {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return nil, fmt.Errorf("simulator caches did not sync")
		}
	}
	for i := 0; i < 4; i++ {
		go func() {
			for s.work(ctx) {
			}
		}()
	}
	go func() {
		<-ctx.Done()
		s.queue.ShutDown()
	}()
	return s, nil
}

func (s *Simulator) enqueueInstances(ns string) {
	inf, ok := s.informers[crds.VMInstance.Plural]
	if !ok {
		return
	}
	for _, o := range inf.GetStore().List() {
		if u, ok := o.(*unstructured.Unstructured); ok && u.GetNamespace() == ns {
			s.queue.Add(key{crds.VMInstance.Plural, ns, u.GetName()})
		}
	}
}

func (s *Simulator) work(ctx context.Context) bool {
	k, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(k)
	after, err := s.reconcile(ctx, k)
	switch {
	case err != nil:
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			s.cfg.Log.Printf("simulator: %s %s/%s: %v", k.plural, k.ns, k.name, err)
		}
		s.queue.AddRateLimited(k)
	case after > 0:
		s.queue.Forget(k)
		s.queue.AddAfter(k, after)
	default:
		s.queue.Forget(k)
	}
	return true
}

func (s *Simulator) get(k key) *unstructured.Unstructured {
	o, exists, err := s.informers[k.plural].GetStore().GetByKey(k.ns + "/" + k.name)
	if err != nil || !exists {
		return nil
	}
	return o.(*unstructured.Unstructured).DeepCopy()
}

func hasFinalizer(u *unstructured.Unstructured) bool {
	for _, f := range u.GetFinalizers() {
		if f == proxy.Finalizer {
			return true
		}
	}
	return false
}

// ServiceName is the name Cozystack gives a VM's Service.
func ServiceName(kind crds.Kind, name string) string { return kind.Prefix + name }

// IngressIP is the fake external IP (TEST-NET-1, 192.0.2.0/24) of a VM.
func IngressIP(ns, name string) string {
	h := fnv.New32a()
	h.Write([]byte(ns + "/" + name))
	return fmt.Sprintf("192.0.2.%d", 1+h.Sum32()%254)
}

func (s *Simulator) reconcile(ctx context.Context, k key) (time.Duration, error) {
	kind, _ := crds.KindByPlural(s.cfg.Profile, k.plural)
	isVM := kind.Kind == crds.VirtualMachine.Kind || kind.Kind == crds.VMInstance.Kind
	u := s.get(k)
	if u == nil {
		s.mu.Lock()
		delete(s.seen, k)
		s.mu.Unlock()
		if isVM {
			return 0, s.deleteService(ctx, k.ns, ServiceName(kind, k.name))
		}
		return 0, nil
	}
	res := s.cfg.Dynamic.Resource(gvr(k.plural)).Namespace(k.ns)

	if ts := u.GetDeletionTimestamp(); ts != nil {
		if !hasFinalizer(u) {
			return 0, nil
		}
		if wait := time.Until(ts.Add(s.cfg.DeleteDelay)); wait > 0 {
			return wait, nil
		}
		if isVM {
			if err := s.deleteService(ctx, k.ns, ServiceName(kind, k.name)); err != nil {
				return 0, err
			}
		}
		var keep []string
		for _, f := range u.GetFinalizers() {
			if f != proxy.Finalizer {
				keep = append(keep, f)
			}
		}
		u.SetFinalizers(keep)
		_, err := res.Update(ctx, u, metav1.UpdateOptions{FieldManager: "testbed-simulator"})
		return 0, err
	}

	if kind.Kind == crds.Kubernetes.Kind && proxy.EnsureMD0(u.Object, s.cfg.Profile) {
		_, err := res.Update(ctx, u, metav1.UpdateOptions{FieldManager: "testbed-simulator"})
		return 0, err
	}

	gen := u.GetGeneration()
	release := kind.Prefix + k.name
	chart := fmt.Sprintf("%s@%s", strings.TrimSuffix(kind.Prefix, "-"), crds.ChartVersion(s.cfg.Profile, kind))
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	s.mu.Lock()
	sn, ok := s.seen[k]
	if !ok || sn.gen != gen {
		sn = seen{gen: gen, at: time.Now(), upgrade: condStatus(conds, "Released") == "True"}
		s.seen[k] = sn
	}
	s.mu.Unlock()
	wasReleased := sn.upgrade

	if wait := time.Until(sn.at.Add(s.cfg.ReadyDelay)); wait > 0 {
		if condReason(conds, "Ready") != "Progressing" {
			st := map[string]interface{}{
				"conditions": setCond(conds, "Ready", "Unknown", "Progressing", "Fulfilling prerequisites"),
			}
			if v, ok, _ := unstructured.NestedString(u.Object, "status", "version"); ok {
				st["version"] = v
			}
			if err := s.writeStatus(ctx, res, u, st); err != nil {
				return 0, err
			}
		}
		return wait, nil
	}

	problems := s.validate(kind, u)
	var st map[string]interface{}
	verb, reason := "install", "Install"
	if wasReleased {
		verb, reason = "upgrade", "Upgrade"
	}
	if len(problems) == 0 {
		msg := fmt.Sprintf("Helm %s succeeded for release %s/%s.v%d with chart %s", verb, k.ns, release, gen, chart)
		c := setCond(conds, "Ready", "True", reason+"Succeeded", msg)
		c = setCond(c, "Released", "True", reason+"Succeeded", msg)
		st = map[string]interface{}{"conditions": c, "version": crds.ChartVersion(s.cfg.Profile, kind)}
	} else {
		msg := fmt.Sprintf("Helm %s failed for release %s/%s with chart %s: %s", verb, k.ns, release, chart, strings.Join(problems, "; "))
		c := setCond(conds, "Ready", "False", reason+"Failed", msg)
		c = setCond(c, "Released", "False", reason+"Failed", msg)
		st = map[string]interface{}{"conditions": c, "version": crds.ChartVersion(s.cfg.Profile, kind)}
	}
	if err := s.writeStatus(ctx, res, u, st); err != nil {
		return 0, err
	}
	if isVM {
		ext, _, _ := unstructured.NestedBool(u.Object, "spec", "external")
		if ext && len(problems) == 0 {
			if err := s.ensureService(ctx, kind, u); err != nil {
				return 0, err
			}
		} else if err := s.deleteService(ctx, k.ns, ServiceName(kind, k.name)); err != nil {
			return 0, err
		}
	}
	if kind.Kind == crds.VMInstance.Kind && len(problems) > 0 {
		return time.Second, nil // a missing VMDisk may appear
	}
	return 0, nil
}

func condStatus(conds []interface{}, t string) string {
	for _, c := range conds {
		if m, ok := c.(map[string]interface{}); ok && m["type"] == t {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

func condReason(conds []interface{}, t string) string {
	for _, c := range conds {
		if m, ok := c.(map[string]interface{}); ok && m["type"] == t {
			s, _ := m["reason"].(string)
			return s
		}
	}
	return ""
}

// setCond returns conds with condition t set; lastTransitionTime changes
// only when the status does.
func setCond(conds []interface{}, t, status, reason, msg string) []interface{} {
	now := time.Now().UTC().Format(time.RFC3339)
	out := make([]interface{}, 0, len(conds)+1)
	found := false
	for _, c := range conds {
		m, ok := c.(map[string]interface{})
		if !ok {
			continue
		}
		if m["type"] == t {
			found = true
			ltt := m["lastTransitionTime"]
			if m["status"] != status {
				ltt = now
			}
			m = map[string]interface{}{"type": t, "status": status, "reason": reason, "message": msg, "lastTransitionTime": ltt}
		}
		out = append(out, m)
	}
	if !found {
		out = append(out, map[string]interface{}{"type": t, "status": status, "reason": reason, "message": msg, "lastTransitionTime": now})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].(map[string]interface{})["type"].(string) < out[j].(map[string]interface{})["type"].(string)
	})
	return out
}

func (s *Simulator) writeStatus(ctx context.Context, res dynamic.ResourceInterface, u *unstructured.Unstructured, st map[string]interface{}) error {
	old, _, _ := unstructured.NestedMap(u.Object, "status")
	if jsonEqual(old, st) {
		return nil
	}
	u.Object["status"] = st
	_, err := res.UpdateStatus(ctx, u, metav1.UpdateOptions{FieldManager: "testbed-simulator"})
	return err
}

func jsonEqual(a, b interface{}) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// ---- chart rules ----

func (s *Simulator) checkInstanceType(path, it string, res map[string]interface{}, needSockets bool) []string {
	if it == "" {
		need := []string{"cpu", "memory"}
		if needSockets {
			need = []string{"cpu", "sockets", "memory"}
		}
		var missing []string
		for _, n := range need {
			if v, ok := res[n]; !ok || v == nil || v == "" {
				missing = append(missing, path+"resources."+n)
			}
		}
		if len(missing) > 0 {
			return []string{fmt.Sprintf("%sinstanceType is empty, so %s must be set", path, strings.Join(missing, ", "))}
		}
		return nil
	}
	if !s.cfg.Catalog.HasInstanceType(it) {
		return []string{fmt.Sprintf("%sinstanceType: VirtualMachineClusterInstancetype %q not found", path, it)}
	}
	return nil
}

func (s *Simulator) checkGPUs(path string, gpus []interface{}) []string {
	var out []string
	for i, g := range gpus {
		m, _ := g.(map[string]interface{})
		name, _ := m["name"].(string)
		if name == "" {
			out = append(out, fmt.Sprintf("%sgpus[%d].name is required", path, i))
			continue
		}
		if !s.cfg.Catalog.HasGPU(name) {
			var offered []string
			for _, o := range s.cfg.Catalog.GPUs {
				offered = append(offered, o.Name)
			}
			out = append(out, fmt.Sprintf("%sgpus[%d].name: GPU %q is not offered by this cluster (no node advertises it; offered: %s)",
				path, i, name, strings.Join(offered, ", ")))
		}
	}
	return out
}

func oneOf(path, v string, allowed ...string) []string {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: %q is not one of %s", path, v, strings.Join(allowed, ", "))}
}

func (s *Simulator) validate(kind crds.Kind, u *unstructured.Unstructured) []string {
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	str := func(m map[string]interface{}, k string) string { v, _ := m[k].(string); return v }
	var p []string
	switch kind.Kind {
	case crds.VirtualMachine.Kind, crds.VMInstance.Kind:
		res, _ := spec["resources"].(map[string]interface{})
		p = append(p, s.checkInstanceType("", str(spec, "instanceType"), res, true)...)
		gpus, _ := spec["gpus"].([]interface{})
		p = append(p, s.checkGPUs("", gpus)...)
		p = append(p, oneOf("externalMethod", str(spec, "externalMethod"), "PortList", "WholeIP")...)
		if kind.Kind == crds.VirtualMachine.Kind {
			sd, _ := spec["systemDisk"].(map[string]interface{})
			p = append(p, oneOf("systemDisk.image", str(sd, "image"), "ubuntu", "cirros", "alpine", "fedora", "talos")...)
			if q := sd["storage"]; q != nil {
				if _, err := resource.ParseQuantity(fmt.Sprint(q)); err != nil {
					p = append(p, fmt.Sprintf("systemDisk.storage: %v", err))
				}
			}
		}
		if kind.Kind == crds.VMInstance.Kind {
			if s.cfg.Profile == crds.V1 {
				p = append(p, oneOf("runStrategy", str(spec, "runStrategy"), "Always", "Halted", "Manual", "RerunOnFailure", "Once")...)
			}
			disks, _ := spec["disks"].([]interface{})
			for i, d := range disks {
				m, _ := d.(map[string]interface{})
				name := str(m, "name")
				if name == "" {
					p = append(p, fmt.Sprintf("disks[%d].name is required", i))
					continue
				}
				if s.get(key{crds.VMDisk.Plural, u.GetNamespace(), name}) == nil {
					p = append(p, fmt.Sprintf("disks[%d].name: VMDisk %q not found in namespace %s", i, name, u.GetNamespace()))
				}
			}
		}
	case crds.VMDisk.Kind:
		src, _ := spec["source"].(map[string]interface{})
		if len(src) > 1 {
			p = append(p, "source: only one of image, http, upload, disk may be set")
		}
		if q := spec["storage"]; q != nil {
			if _, err := resource.ParseQuantity(fmt.Sprint(q)); err != nil {
				p = append(p, fmt.Sprintf("storage: %v", err))
			}
		}
	case crds.Kubernetes.Kind:
		p = append(p, oneOf("version", str(spec, "version"), crds.KubernetesVersions(s.cfg.Profile)...)...)
		ngs, _ := spec["nodeGroups"].(map[string]interface{})
		names := make([]string, 0, len(ngs))
		for n := range ngs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ng, ok := ngs[n].(map[string]interface{})
			path := fmt.Sprintf("nodeGroups.%s.", n)
			if !ok {
				p = append(p, path[:len(path)-1]+" must be an object")
				continue
			}
			minR, _ := ng["minReplicas"].(int64)
			maxR, _ := ng["maxReplicas"].(int64)
			if minR < 0 || maxR < 0 {
				p = append(p, path+"minReplicas and maxReplicas must not be negative")
			}
			if minR > maxR {
				p = append(p, fmt.Sprintf("%sminReplicas (%d) is greater than maxReplicas (%d)", path, minR, maxR))
			}
			res, _ := ng["resources"].(map[string]interface{})
			p = append(p, s.checkInstanceType(path, str(ng, "instanceType"), res, false)...)
			gpus, _ := ng["gpus"].([]interface{})
			p = append(p, s.checkGPUs(path, gpus)...)
			df := crds.DiskField(s.cfg.Profile)
			if q := ng[df]; q != nil {
				if _, err := resource.ParseQuantity(fmt.Sprint(q)); err != nil {
					p = append(p, fmt.Sprintf("%s%s: %v", path, df, err))
				}
			}
		}
	}
	return p
}

// ---- Services ----

func (s *Simulator) ensureService(ctx context.Context, kind crds.Kind, u *unstructured.Unstructured) error {
	name := ServiceName(kind, u.GetName())
	method, _, _ := unstructured.NestedString(u.Object, "spec", "externalMethod")
	portsRaw, _, _ := unstructured.NestedSlice(u.Object, "spec", "externalPorts")
	var ports []corev1.ServicePort
	if method != "WholeIP" {
		for _, pr := range portsRaw {
			var n int64
			switch v := pr.(type) {
			case int64:
				n = v
			case float64:
				n = int64(v)
			}
			ports = append(ports, corev1.ServicePort{Name: fmt.Sprintf("port-%d", n), Protocol: corev1.ProtocolTCP,
				Port: int32(n), TargetPort: intstr.FromInt32(int32(n))})
		}
	}
	want := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: u.GetNamespace(),
			Labels: map[string]string{
				"apps.cozystack.io/application.group": crds.Group,
				"apps.cozystack.io/application.kind":  kind.Kind,
				"apps.cozystack.io/application.name":  u.GetName(),
				"app.kubernetes.io/managed-by":        "testbed-simulator",
			},
			Annotations: map[string]string{},
		},
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceTypeLoadBalancer,
			Selector:              map[string]string{"vm.kubevirt.io/name": name},
			Ports:                 ports,
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
			Ingress: []corev1.LoadBalancerIngress{{IP: IngressIP(u.GetNamespace(), u.GetName())}},
		}},
	}
	if method == "WholeIP" {
		want.Annotations["networking.cozystack.io/wholeIP"] = "true"
	}
	svcs := s.cfg.Core.CoreV1().Services(u.GetNamespace())
	cur, err := svcs.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = svcs.Create(ctx, want, metav1.CreateOptions{FieldManager: "testbed-simulator"})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	if reflect.DeepEqual(cur.Labels, want.Labels) && reflect.DeepEqual(cur.Annotations, want.Annotations) &&
		reflect.DeepEqual(cur.Spec.Ports, want.Spec.Ports) && cur.Spec.Type == want.Spec.Type &&
		reflect.DeepEqual(cur.Status, want.Status) {
		return nil
	}
	cur.Labels, cur.Annotations = want.Labels, want.Annotations
	cur.Spec.Type, cur.Spec.Ports, cur.Spec.Selector = want.Spec.Type, want.Spec.Ports, want.Spec.Selector
	cur.Status = want.Status
	_, err = svcs.Update(ctx, cur, metav1.UpdateOptions{FieldManager: "testbed-simulator"})
	return err
}

func (s *Simulator) deleteService(ctx context.Context, ns, name string) error {
	err := s.cfg.Core.CoreV1().Services(ns).Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
