"""azure-mgmt-resource's SubscriptionClient against Atrium, run by interop/arm.py in the Azure
CLI's venv (azure-mgmt-resource and azure-identity are pinned there).

    arm_client.py BASE TENANT_ID CLIENT_ID SUBSCRIPTION OTHER_SUBSCRIPTION   (secret in ARM_CLIENT_SECRET)

Prints one JSON object: what subscriptions.list(), subscriptions.get(), tenants.list() returned,
and how subscriptions.get() of a subscription the app may not see failed.
"""

import json
import os
import sys

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource import SubscriptionClient


def main() -> None:
    base, tenant, client_id, sub, other = sys.argv[1:6]
    ca = os.environ["REQUESTS_CA_BUNDLE"]
    cred = ClientSecretCredential(tenant, client_id, os.environ["ARM_CLIENT_SECRET"], authority=base,
                                  disable_instance_discovery=True, connection_verify=ca)
    # The SDK's default scope is <base_url>/.default; ARM's audience is asked for explicitly.
    client = SubscriptionClient(cred, base_url=base, credential_scopes=["https://management.azure.com/.default"], connection_verify=ca)
    out = {
        "subscriptions": [[s.subscription_id, s.display_name, s.state, s.tenant_id] for s in client.subscriptions.list()],
        "tenants": [[t.tenant_id, t.tenant_category] for t in client.tenants.list()],
    }
    s = client.subscriptions.get(sub)
    out["get"] = [s.subscription_id, s.display_name]
    try:
        client.subscriptions.get(other)
        out["other"] = "found"
    except ResourceNotFoundError as e:
        out["other"] = f"ResourceNotFoundError:{e.error.code if e.error else ''}"
    except HttpResponseError as e:
        out["other"] = f"HttpResponseError {e.status_code}"
    cred.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
