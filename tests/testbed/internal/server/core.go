package server

import (
	"context"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/names"
	storagevalue "k8s.io/apiserver/pkg/storage/value"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// The core/v1 stand-in.
//
// kube-apiserver's own registry code for Namespaces and Services
// (k8s.io/kubernetes/pkg/registry/core/...) is not a consumable module, so the
// test bed serves these two kinds with the same generic machinery every
// Kubernetes apiserver uses (k8s.io/apiserver generic registry store, backed
// by the same etcd, with watch, resourceVersion, conflicts, field selectors),
// but with deliberately small strategies: names are validated, a Service gets
// a cluster IP, and nothing else is (no port validation, no namespace
// finalization, no cascading deletion). The k8s.io/api/core/v1 Go types are
// used both as the external and as the "internal" version.

var coreScheme = runtime.NewScheme()
var coreCodecs = serializer.NewCodecFactory(coreScheme)

func init() {
	if err := corev1.AddToScheme(coreScheme); err != nil {
		panic(err)
	}
	internal := schema.GroupVersion{Group: "", Version: runtime.APIVersionInternal}
	coreScheme.AddKnownTypes(internal, &corev1.Namespace{}, &corev1.NamespaceList{}, &corev1.Service{}, &corev1.ServiceList{})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	coreScheme.AddUnversionedTypes(unversioned, &metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
	if err := coreScheme.SetVersionPriority(corev1.SchemeGroupVersion); err != nil {
		panic(err)
	}
}

type coreStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	namespaced bool
}

func (s coreStrategy) NamespaceScoped() bool { return s.namespaced }

func (s coreStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		o.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
		if len(o.Spec.Finalizers) == 0 {
			o.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
		}
	case *corev1.Service:
		if o.Spec.Type == "" {
			o.Spec.Type = corev1.ServiceTypeClusterIP
		}
		if o.Spec.ClusterIP == "" {
			h := fnv.New32a()
			h.Write([]byte(o.Namespace + "/" + o.Name))
			v := h.Sum32()
			o.Spec.ClusterIP = fmt.Sprintf("10.96.%d.%d", (v>>8)%256, 1+v%254)
			o.Spec.ClusterIPs = []string{o.Spec.ClusterIP}
		}
	}
}

func (s coreStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	if n, ok := obj.(*corev1.Namespace); ok {
		n.Status = old.(*corev1.Namespace).Status
	}
	if svc, ok := obj.(*corev1.Service); ok && svc.Spec.ClusterIP == "" {
		svc.Spec.ClusterIP = old.(*corev1.Service).Spec.ClusterIP
		svc.Spec.ClusterIPs = old.(*corev1.Service).Spec.ClusterIPs
	}
}

func (s coreStrategy) validate(obj runtime.Object) field.ErrorList {
	switch o := obj.(type) {
	case *corev1.Namespace:
		return validation.ValidateObjectMeta(&o.ObjectMeta, false, validation.NameIsDNSLabel, field.NewPath("metadata"))
	case *corev1.Service:
		return validation.ValidateObjectMeta(&o.ObjectMeta, true, validation.NameIsDNS1035Label, field.NewPath("metadata"))
	}
	return nil
}

func (s coreStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return s.validate(obj)
}
func (s coreStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string { return nil }
func (s coreStrategy) Canonicalize(obj runtime.Object)                                   {}
func (s coreStrategy) AllowCreateOnUpdate(context.Context) bool                          { return false }
func (s coreStrategy) AllowUnconditionalUpdate(context.Context) bool                     { return true }
func (s coreStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return s.validate(obj)
}
func (s coreStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

func newCoreStore(getter generic.RESTOptionsGetter, resource, singular string, namespaced bool,
	newFn func() runtime.Object, newListFn func() runtime.Object) (*genericregistry.Store, error) {
	strategy := coreStrategy{ObjectTyper: coreScheme, NameGenerator: names.SimpleNameGenerator, namespaced: namespaced}
	gr := schema.GroupResource{Resource: resource}
	st := &genericregistry.Store{
		NewFunc:                   newFn,
		NewListFunc:               newListFn,
		DefaultQualifiedResource:  gr,
		SingularQualifiedResource: schema.GroupResource{Resource: singular},
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		TableConvertor:            rest.NewDefaultTableConvertor(gr),
	}
	if err := st.CompleteWithOptions(&generic.StoreOptions{RESTOptions: getter}); err != nil {
		return nil, err
	}
	return st, nil
}

// shortNamed adds kubectl short names (ns, svc) to a store.
type shortNamed struct {
	*genericregistry.Store
	short []string
}

func (s shortNamed) ShortNames() []string { return s.short }

func installCore(s *genericapiserver.GenericAPIServer, etcd genericoptions.EtcdOptions, transformers storagevalue.ResourceTransformers) error {
	e := etcd
	e.StorageConfig.Codec = coreCodecs.LegacyCodec(corev1.SchemeGroupVersion)
	e.StorageConfig.Prefix = "/registry/testbed-core"
	e.WatchCacheSizes = nil
	getter := e.CreateRESTOptionsGetter(&genericoptions.SimpleStorageFactory{StorageConfig: e.StorageConfig}, transformers)

	ns, err := newCoreStore(getter, "namespaces", "namespace", false,
		func() runtime.Object { return &corev1.Namespace{} }, func() runtime.Object { return &corev1.NamespaceList{} })
	if err != nil {
		return err
	}
	svc, err := newCoreStore(getter, "services", "service", true,
		func() runtime.Object { return &corev1.Service{} }, func() runtime.Object { return &corev1.ServiceList{} })
	if err != nil {
		return err
	}
	info := genericapiserver.NewDefaultAPIGroupInfo("", coreScheme, metav1.ParameterCodec, coreCodecs)
	info.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{
		"namespaces": shortNamed{ns, []string{"ns"}},
		"services":   shortNamed{svc, []string{"svc"}},
	}
	return s.InstallLegacyAPIGroup("/api", &info)
}

// withCoreDefinitions adds OpenAPI definitions for the four core types we
// serve. Their spec and status are left open (preserve-unknown-fields): the
// generated core/v1 definitions live in k8s.io/kubernetes, not in a module.
func withCoreDefinitions(base common.GetOpenAPIDefinitions) common.GetOpenAPIDefinitions {
	return func(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
		defs := base(ref)
		open := spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"object"}},
			VendorExtensible: spec.VendorExtensible{Extensions: spec.Extensions{"x-kubernetes-preserve-unknown-fields": true}}}
		str := spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"string"}}}
		meta := metav1.ObjectMeta{}.OpenAPIModelName()
		listMeta := metav1.ListMeta{}.OpenAPIModelName()
		object := func(desc string) common.OpenAPIDefinition {
			return common.OpenAPIDefinition{
				Schema: spec.Schema{SchemaProps: spec.SchemaProps{
					Description: desc,
					Type:        []string{"object"},
					Properties: map[string]spec.Schema{
						"apiVersion": str, "kind": str,
						"metadata": {SchemaProps: spec.SchemaProps{Default: map[string]interface{}{}, Ref: ref(meta)}},
						"spec":     open, "status": open,
					},
				}},
				Dependencies: []string{meta},
			}
		}
		list := func(item string) common.OpenAPIDefinition {
			return common.OpenAPIDefinition{
				Schema: spec.Schema{SchemaProps: spec.SchemaProps{
					Type: []string{"object"},
					Properties: map[string]spec.Schema{
						"apiVersion": str, "kind": str,
						"metadata": {SchemaProps: spec.SchemaProps{Default: map[string]interface{}{}, Ref: ref(listMeta)}},
						"items": {SchemaProps: spec.SchemaProps{Type: []string{"array"}, Items: &spec.SchemaOrArray{Schema: &spec.Schema{
							SchemaProps: spec.SchemaProps{Default: map[string]interface{}{}, Ref: ref(item)}}}}},
					},
					Required: []string{"items"},
				}},
				Dependencies: []string{listMeta, item},
			}
		}
		ns, svc := corev1.Namespace{}.OpenAPIModelName(), corev1.Service{}.OpenAPIModelName()
		defs[ns] = object("Namespace (testbed core/v1 stand-in)")
		defs[svc] = object("Service (testbed core/v1 stand-in)")
		defs[corev1.NamespaceList{}.OpenAPIModelName()] = list(ns)
		defs[corev1.ServiceList{}.OpenAPIModelName()] = list(svc)
		return defs
	}
}
