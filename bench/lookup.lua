-- wrk script: GET /api/v1/participants?nik=<random NIK from niks.txt> with a bearer token.
local niks = {}
for line in io.lines(os.getenv("NIK_FILE")) do niks[#niks + 1] = line end
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local nik = niks[math.random(#niks)]
  return wrk.format("GET", "/api/v1/participants?nik=" .. nik, { ["Authorization"] = "Bearer " .. token })
end
