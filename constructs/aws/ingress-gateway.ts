import type { IngressGateway } from "../contract";

/** The annotation the service controller EKS runs reads to choose the kind of load balancer. */
export const AWS_LOAD_BALANCER_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type";

/**
 * A Network Load Balancer from the service controller EKS runs, instead of the
 * Classic ELB it makes for an unannotated Service: TCP passthrough with no
 * 60-second idle timeout (WebSockets and long streams survive), a static
 * address per zone, and a current-generation load balancer. Kourier
 * terminates TLS itself, so the load balancer needs no certificate.
 *
 * Not the AWS Load Balancer Controller: it would add a controller, its
 * webhooks and a broad IAM policy to every cluster for IP targets and proxy
 * protocol, which the platform does not use yet (docs/dns-and-tls.md).
 */
export function networkLoadBalancerGateway(): IngressGateway {
  return { loadBalancerAnnotations: { [AWS_LOAD_BALANCER_TYPE]: "nlb" } };
}
