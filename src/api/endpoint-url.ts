// An endpoint URL a request gives (a webhook's url, the workspace's alertUrl), judged by the URL policy.
import { checkEndpointUrl } from "../lib/url-policy";
import { ApiError } from "./errors";

/** The URL as it will be stored, or the policy's error naming `param`. */
export function endpointUrl(input: string, allowPrivate: boolean, param = "url"): string {
  const verdict = checkEndpointUrl(input, { allowPrivate });
  if (verdict.ok) return verdict.url;
  // The policy words its messages for `url`; another field is named as itself.
  const message = param === "url" ? verdict.message : verdict.message.replace(/^url\b/, param);
  throw new ApiError(verdict.code, message, undefined, { param });
}
