/** The identities of docs/kubernetes.md, as the API server presents them. */
import { serviceAccount, user } from '../../src/admission/build.js';

export const argocdController = () => serviceAccount('argocd', 'argocd-application-controller');
export const fluxKustomize = () => serviceAccount('flux-system', 'kustomize-controller');
export const fluxHelm = () => serviceAccount('flux-system', 'helm-controller');
export const hpa = () => serviceAccount('kube-system', 'horizontal-pod-autoscaler');
export const deploymentController = () => serviceAccount('kube-system', 'deployment-controller');
export const garbageCollector = () => serviceAccount('kube-system', 'generic-garbage-collector');
export const kubeadmAdmin = () => user('kubernetes-admin', ['kubeadm:cluster-admins']);
export const jane = () => user('oidc:jane@example.com', ['oidc:developers']);
export const oncallBob = () => user('oidc:bob@example.com', ['oidc:developers', 'oncall']);
