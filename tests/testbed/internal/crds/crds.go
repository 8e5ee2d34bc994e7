// Package crds builds the CustomResourceDefinitions that stand in for
// Cozystack's apps.cozystack.io/v1alpha1 aggregated API.
//
// The schemas carry the defaults of the Cozystack chart schemas
// (values.schema.json of packages/apps/{virtual-machine,vm-instance,vm-disk,
// kubernetes}) as summarised in docs/guides/testbed.md, so the apiserver
// defaults each response as Cozystack does. Every object keeps unknown
// fields (x-kubernetes-preserve-unknown-fields), because Cozystack does not
// check the spec against the chart schema on write and stores it as sent;
// only the fields we know are declared, so that defaults apply to them.
package crds

import (
	"encoding/json"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group is the Cozystack application group.
const Group = "apps.cozystack.io"

// Version is the only version Cozystack serves.
const Version = "v1alpha1"

// Profile selects which Cozystack generation is imitated.
type Profile string

const (
	// V0 is Cozystack v0.41: VirtualMachine (plus VMInstance/VMDisk),
	// node groups with ephemeralStorage, Kubernetes v1.28..v1.33.
	V0 Profile = "v0"
	// V1 is Cozystack v1.4/v1.5: VMInstance + VMDisk only, node groups with
	// diskSize, Kubernetes v1.30..v1.35.
	V1 Profile = "v1"
)

// Kind describes one application kind.
type Kind struct {
	Kind     string
	Plural   string
	Singular string
	// Prefix is the HelmRelease prefix Cozystack uses (names in messages,
	// and the KubeVirt VM / Service name of a VM).
	Prefix string
}

var (
	VirtualMachine = Kind{"VirtualMachine", "virtualmachines", "virtualmachine", "virtual-machine-"}
	VMInstance     = Kind{"VMInstance", "vminstances", "vminstance", "vm-instance-"}
	VMDisk         = Kind{"VMDisk", "vmdisks", "vmdisk", "vm-disk-"}
	Kubernetes     = Kind{"Kubernetes", "kuberneteses", "kubernetes", "kubernetes-"}
)

// Kinds lists the kinds served by a profile.
func Kinds(p Profile) []Kind {
	if p == V0 {
		return []Kind{VirtualMachine, VMInstance, VMDisk, Kubernetes}
	}
	return []Kind{VMInstance, VMDisk, Kubernetes}
}

// KindByPlural finds a kind of the profile by its plural.
func KindByPlural(p Profile, plural string) (Kind, bool) {
	for _, k := range Kinds(p) {
		if k.Plural == plural {
			return k, true
		}
	}
	return Kind{}, false
}

// ChartVersion is what the simulator writes to status.version.
func ChartVersion(p Profile, k Kind) string {
	if p == V0 {
		return "0.41.11"
	}
	return "1.4.0"
}

// KubernetesVersions is the version enum of the Kubernetes chart; the first
// entry is the default.
func KubernetesVersions(p Profile) []string {
	if p == V0 {
		return []string{"v1.33", "v1.32", "v1.31", "v1.30", "v1.29", "v1.28"}
	}
	return []string{"v1.35", "v1.34", "v1.33", "v1.32", "v1.31", "v1.30"}
}

// DiskField is the node group disk size field of the profile.
func DiskField(p Profile) string {
	if p == V0 {
		return "ephemeralStorage"
	}
	return "diskSize"
}

// DefaultNodeGroup is the chart's md0 entry (values.yaml), merged by Helm
// into every user map up to Cozystack v1.5.
func DefaultNodeGroup(p Profile) map[string]interface{} {
	return map[string]interface{}{
		"minReplicas":  int64(0),
		"maxReplicas":  int64(10),
		"instanceType": "u1.medium",
		DiskField(p):   "20Gi",
		"roles":        []interface{}{"ingress-nginx"},
		"resources":    map[string]interface{}{},
		"gpus":         []interface{}{},
	}
}

// ---- schema helpers ----

type S = apiextensionsv1.JSONSchemaProps

func def(v interface{}) *apiextensionsv1.JSON {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &apiextensionsv1.JSON{Raw: b}
}

func str(d interface{}, desc string) S {
	s := S{Type: "string", Description: desc}
	if d != nil {
		s.Default = def(d)
	}
	return s
}

func boolean(d bool, desc string) S { return S{Type: "boolean", Default: def(d), Description: desc} }

func integer(d int, desc string) S { return S{Type: "integer", Default: def(d), Description: desc} }

func quantity(d interface{}, desc string) S {
	s := S{XIntOrString: true, AnyOf: []S{{Type: "integer"}, {Type: "string"}}, Description: desc}
	if d != nil {
		s.Default = def(d)
	}
	return s
}

func yes() *bool { t := true; return &t }

// object is an open object: declared properties are typed and defaulted,
// anything else is kept.
func object(props map[string]S, d interface{}, desc string) S {
	s := S{Type: "object", Properties: props, XPreserveUnknownFields: yes(), Description: desc}
	if d != nil {
		s.Default = def(d)
	}
	return s
}

func array(items S, d interface{}, desc string) S {
	s := S{Type: "array", Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &items}, Description: desc}
	if d != nil {
		s.Default = def(d)
	}
	return s
}

var empty = map[string]interface{}{}
var none = []interface{}{}

func gpus() S {
	return array(object(map[string]S{"name": str(nil, "GPU resource name, e.g. nvidia.com/AD102GL_L40S")}, nil, ""), none, "GPUs passed through")
}

func resources(withSockets bool) S {
	p := map[string]S{
		"cpu":    quantity(nil, "vCPU count"),
		"memory": quantity(nil, "memory"),
	}
	if withSockets {
		p["sockets"] = quantity(nil, "CPU sockets")
	}
	return object(p, empty, "custom sizing (used when instanceType is empty)")
}

func externalProps(p map[string]S) {
	p["external"] = boolean(false, "expose the VM outside the cluster (LoadBalancer Service)")
	p["externalMethod"] = str("PortList", "PortList or WholeIP")
	p["externalPorts"] = array(S{Type: "integer"}, []int{22}, "ports opened with PortList")
}

func commonVMProps(p map[string]S) {
	externalProps(p)
	p["instanceType"] = str("u1.medium", "KubeVirt VirtualMachineClusterInstancetype name")
	p["instanceProfile"] = str("ubuntu", "KubeVirt preference name")
	p["gpus"] = gpus()
	p["resources"] = resources(true)
	p["sshKeys"] = array(S{Type: "string"}, none, "")
	p["cloudInit"] = str("", "cloud-init user data")
	p["cloudInitSeed"] = str("", "seed of the SMBIOS UUID")
	p["subnets"] = array(object(map[string]S{"name": str(nil, "")}, nil, ""), none, "")
}

func virtualMachineSpec() S {
	p := map[string]S{}
	commonVMProps(p)
	p["running"] = boolean(true, "")
	p["systemDisk"] = object(map[string]S{
		"image":        str("ubuntu", "ubuntu, cirros, alpine, fedora, talos"),
		"storage":      quantity("5Gi", "disk size (the key is storage, not size)"),
		"storageClass": str("replicated", ""),
	}, empty, "")
	return object(p, empty, "VirtualMachine values (Cozystack v0.41 chart)")
}

func vmInstanceSpec(pr Profile) S {
	p := map[string]S{}
	commonVMProps(p)
	p["disks"] = array(object(map[string]S{"name": str(nil, "VMDisk app name"), "bus": str(nil, "")}, nil, ""), none, "disks in boot order")
	if pr == V0 {
		p["running"] = boolean(true, "")
	} else {
		p["runStrategy"] = str("Always", "Always, Halted, Manual, RerunOnFailure, Once")
		p["externalAllowICMP"] = boolean(true, "")
		p["networks"] = array(object(map[string]S{"name": str(nil, "")}, nil, ""), none, "")
		p["cpuModel"] = str("", "")
	}
	return object(p, empty, "VMInstance values")
}

func vmDiskSpec() S {
	return object(map[string]S{
		"source":       object(nil, empty, "one of image{name}, http{url}, upload{}, disk{name}"),
		"optical":      boolean(false, ""),
		"storage":      quantity("5Gi", ""),
		"storageClass": str("replicated", ""),
	}, empty, "VMDisk values")
}

func nodeGroup(pr Profile) S {
	p := map[string]S{
		"minReplicas":  integer(0, ""),
		"maxReplicas":  integer(10, ""),
		"instanceType": str("u1.medium", ""),
		DiskField(pr):  quantity("20Gi", "root disk of each node"),
		"roles":        array(S{Type: "string"}, nil, "e.g. ingress-nginx"),
		"resources":    resources(false),
		"gpus":         gpus(),
	}
	if pr == V1 {
		p["storageClass"] = str(nil, "")
		p["kubelet"] = object(nil, nil, "")
	}
	return object(p, nil, "a node group")
}

func kubernetesSpec(pr Profile) S {
	ng := nodeGroup(pr)
	return object(map[string]S{
		"storageClass": str("replicated", ""),
		"version":      str(KubernetesVersions(pr)[0], "Kubernetes minor version"),
		"host":         str("", ""),
		"nodeGroups": {
			Type:                 "object",
			AdditionalProperties: &apiextensionsv1.JSONSchemaPropsOrBool{Allows: true, Schema: &ng},
			Default:              def(map[string]interface{}{"md0": DefaultNodeGroup(pr)}),
			Description:          "node groups by name",
		},
		"addons":       object(nil, empty, ""),
		"controlPlane": object(map[string]S{"replicas": integer(2, "")}, empty, ""),
	}, empty, "Kubernetes values")
}

// SpecSchema returns the spec schema of a kind in a profile.
func SpecSchema(p Profile, k Kind) S {
	switch k.Kind {
	case VirtualMachine.Kind:
		return virtualMachineSpec()
	case VMInstance.Kind:
		return vmInstanceSpec(p)
	case VMDisk.Kind:
		return vmDiskSpec()
	default:
		return kubernetesSpec(p)
	}
}

// CRD builds the CustomResourceDefinition of a kind.
func CRD(p Profile, k Kind) *apiextensionsv1.CustomResourceDefinition {
	root := S{
		Type: "object",
		Properties: map[string]S{
			"apiVersion": {Type: "string"},
			"kind":       {Type: "string"},
			"metadata":   {Type: "object"},
			"spec":       SpecSchema(p, k),
			"status": object(map[string]S{
				"version": str(nil, "chart version"),
				"conditions": array(object(map[string]S{
					"type": str(nil, ""), "status": str(nil, ""), "reason": str(nil, ""),
					"message": str(nil, ""), "lastTransitionTime": str(nil, ""),
				}, nil, ""), nil, "HelmRelease conditions (Ready, Released)"),
			}, nil, ""),
		},
	}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: k.Plural + "." + Group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: Group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{
				Kind: k.Kind, ListKind: k.Kind + "List", Plural: k.Plural, Singular: k.Singular,
				Categories: []string{"cozystack"},
			},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: Version, Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &root},
				// status is written by the simulator only; the proxy hides the
				// subresource (Cozystack has none) so clients cannot write it.
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				AdditionalPrinterColumns: []apiextensionsv1.CustomResourceColumnDefinition{
					{Name: "Ready", Type: "string", JSONPath: `.status.conditions[?(@.type=="Ready")].status`},
					{Name: "Version", Type: "string", JSONPath: ".status.version"},
					{Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp"},
				},
			}},
		},
	}
}
