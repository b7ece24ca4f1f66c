-- Argo CD health check for the xks.dev kinds Vault, CspAccount, KeySet and CloudKey (one script for all four).
-- Install it in argocd-cm as resource.customizations.health.xks.dev_<Kind> (see the chart's README).
--
--   being deleted                                   -> Progressing ("Pending deletion; blocked by finalizers: ...")
--   status.observedGeneration < metadata.generation -> Progressing (the operator has not seen the latest spec yet)
--   Ready condition missing, or from an older generation -> Progressing
--   Ready=True                                      -> Healthy
--   Ready=False with a transient reason (below)     -> Progressing
--   Ready=False otherwise (e.g. InvalidSpec)        -> Degraded
--   Ready=Unknown                                   -> Progressing
local hs = {}

-- Ready=False reasons that mean "still converging" rather than "broken".
local progressingReasons = {
  Reconciling = true,
  Progressing = true,
  Pending = true,
  Creating = true,
  Provisioning = true,
  Deleting = true,
  WaitingForDependencies = true,
  ProxyUnavailable = true,
  ReplicasUnavailable = true,
  NoReplicasAvailable = true,
  CertificatePending = true,
}

local function message(condition, fallback)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

local metadata = obj.metadata or {}
if metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  if metadata.finalizers ~= nil and #metadata.finalizers > 0 then
    hs.message = "Pending deletion; blocked by finalizers: " .. table.concat(metadata.finalizers, ", ")
  else
    hs.message = "Pending deletion"
  end
  return hs
end

local generation = metadata.generation
local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready = nil
if status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    end
  end
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end

if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition of generation " .. tostring(generation)
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message(ready, "Ready")
elseif ready.status == "False" then
  if ready.reason ~= nil and progressingReasons[ready.reason] then
    hs.status = "Progressing"
  else
    hs.status = "Degraded"
  end
  hs.message = message(ready, "Not ready")
else
  hs.status = "Progressing"
  hs.message = message(ready, "Readiness unknown")
end
return hs
