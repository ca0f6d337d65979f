"""Independent reference values from Hugging Face `diffusers` for kiln-generative tests.

Run (diffusers installed outside the project venv):
    pip install --target /tmp/dpkgs diffusers
    PYTHONPATH=/tmp/dpkgs .venv/bin/python crates/kiln-generative/tests/reference/diffusers_reference.py

diffusers builds its beta tables in float32 (hard-coded `dtype=torch.float32`). To obtain float64
references from diffusers' *own* code paths, we swap each scheduler module's `torch` for a proxy
that maps `torch.float32 -> torch.float64` and set the default dtype to float64. A few native
float32 values are printed first so the size of the f32/f64 gap is visible.
"""
import torch
import diffusers
from diffusers import DDPMScheduler, DDIMScheduler, EDMEulerScheduler, ScoreSdeVeScheduler
from diffusers.schedulers import scheduling_ddpm, scheduling_ddim, scheduling_edm_euler, scheduling_sde_ve
from diffusers.utils.torch_utils import randn_tensor

def f(x):  # 17 significant digits (round-trips an f64)
    if isinstance(x, torch.Tensor):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(f(v) for v in x) + "]"
    return str(x) if isinstance(x, int) else f"{float(x):.17g}"

LIN = dict(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, beta_schedule="linear")
print("diffusers_version", diffusers.__version__, "torch", torch.__version__)

# ---- native float32 (what diffusers actually stores) ----
lin32, cos32 = DDPMScheduler(**LIN), DDPMScheduler(beta_schedule="squaredcos_cap_v2")
print("f32.linear.alphas_cumprod[0,1,499,999]", f(lin32.alphas_cumprod[[0, 1, 499, 999]]))
print("f32.cos.alphas_cumprod[0,1,499,998,999]", f(cos32.alphas_cumprod[[0, 1, 499, 998, 999]]))

# ---- switch diffusers' scheduler modules to float64 ----
class _Torch64:
    def __getattr__(self, name):
        return torch.float64 if name == "float32" else getattr(torch, name)
for m in (scheduling_ddpm, scheduling_ddim, scheduling_edm_euler, scheduling_sde_ve):
    m.torch = _Torch64()
torch.set_default_dtype(torch.float64)

# a. linear DDPM schedule
lin = DDPMScheduler(**LIN)
assert lin.alphas_cumprod.dtype == torch.float64
print("a.linear.alphas_cumprod[0,1,499,999]", f(lin.alphas_cumprod[[0, 1, 499, 999]]))

# b. cosine (squaredcos_cap_v2, max_beta=0.999) schedule
cos = DDPMScheduler(beta_schedule="squaredcos_cap_v2")
print("b.cos.alphas_cumprod[0,1,499,998,999]", f(cos.alphas_cumprod[[0, 1, 499, 998, 999]]))
print("b.cos.betas[999]", f(cos.betas[999]))

# c. DDPM posterior variances (no set_timesteps => prev_t = t-1) and one epsilon step at t=500
for vt in ("fixed_small", "fixed_large"):
    s = DDPMScheduler(**LIN, variance_type=vt)
    print(f"c.{vt}._get_variance(500)", f(s._get_variance(500)), f"c.{vt}._get_variance(1)", f(s._get_variance(1)))
s = DDPMScheduler(**LIN, variance_type="fixed_small", clip_sample=False, prediction_type="epsilon")
x = torch.tensor([[0.5, -1.2]], dtype=torch.float64)
eps = torch.tensor([[0.1, 0.3]], dtype=torch.float64)
# Exact noise-free mean: DDPM.step draws `randn_tensor(...)` and adds sqrt(var)*noise; patch it to zeros.
scheduling_ddpm.randn_tensor = lambda shape, **kw: torch.zeros(shape, dtype=kw["dtype"])
out = s.step(eps, 500, x)
print("c.step500.pred_original_sample", f(out.pred_original_sample[0]))
print("c.step500.posterior_mean", f(out.prev_sample[0]))
scheduling_ddpm.randn_tensor = randn_tensor
# cross-check with real noise: prev - sqrt(var)*noise (same seed) == mean up to rounding
noisy = s.step(eps, 500, x, generator=torch.Generator().manual_seed(0)).prev_sample
z = randn_tensor(x.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
print("c.step500.check_maxabs(noisy-sqrt(var)*z - mean)",
      f((noisy - s._get_variance(500) ** 0.5 * z - out.prev_sample).abs().max()))

# d. DDPM respaced to 50 steps (default timestep_spacing="leading", steps_offset=0)
s = DDPMScheduler(**LIN, variance_type="fixed_small")
s.set_timesteps(50)
t1 = int(s.timesteps[1])
print("d.ddpm50.timesteps", f(s.timesteps))
print("d.ddpm50.t1", t1, "prev_t", int(s.previous_timestep(t1)), "_get_variance(t1)", f(s._get_variance(t1)))
print("d.ddpm50.last_t", int(s.timesteps[-1]), "prev_t", int(s.previous_timestep(int(s.timesteps[-1]))))

# e. DDIM, 50 steps (leading spacing, steps_offset=0); prev_t = t - 1000//50
for one in (True, False):
    d = DDIMScheduler(**LIN, clip_sample=False, set_alpha_to_one=one)
    d.set_timesteps(50)
    print(f"e.ddim.set_alpha_to_one={one}.final_alpha_cumprod", f(d.final_alpha_cumprod))
    # last step t=0 -> prev_t=-20 -> uses final_alpha_cumprod
    print(f"e.ddim.set_alpha_to_one={one}.step(t=0,eta=0).prev_sample", f(d.step(eps, 0, x, eta=0.0).prev_sample[0]))
print("e.ddim50.timesteps", f(d.timesteps))
t0 = int(d.timesteps[0])
print("e.ddim.t0", t0, "prev_t", t0 - 1000 // 50)
print("e.ddim.step(t0,eta=0).prev_sample", f(d.step(eps, t0, x, eta=0.0).prev_sample[0]))
print("e.ddim.step(t0,eta=0).pred_original_sample", f(d.step(eps, t0, x, eta=0.0).pred_original_sample[0]))
var = d._get_variance(t0, t0 - 20)
print("e.ddim._get_variance(t0,prev)", f(var), "sigma_t(eta=1)", f(1.0 * var ** 0.5))
print("e.ddim.step(t0,eta=1,noise=0).prev_sample",
      f(d.step(eps, t0, x, eta=1.0, variance_noise=torch.zeros_like(x)).prev_sample[0]))

# f. EDM Euler (karras sigmas, final_sigmas_type="zero", prediction_type="epsilon")
e = EDMEulerScheduler(sigma_min=0.002, sigma_max=80.0, sigma_data=0.5, rho=7.0)
e.set_timesteps(5)
print("f.edm5.sigmas", f(e.sigmas))
print("f.edm5.timesteps(c_noise)", f(e.timesteps))
one_, zero_ = torch.ones(1), torch.zeros(1)
for sig in (1.0, 10.0):
    c_in = e._get_conditioning_c_in(sig)                 # 1/sqrt(sigma^2+sd^2)
    c_noise = e.precondition_noise(sig)                  # 0.25*ln(sigma)
    c_skip = e.precondition_outputs(one_, zero_, sig)    # sd^2/(sigma^2+sd^2)
    c_out = e.precondition_outputs(zero_, one_, sig)     # sigma*sd/sqrt(sigma^2+sd^2)
    print(f"f.edm.sigma={sig} c_in", f(c_in), "c_noise", f(c_noise[0]), "c_skip", f(c_skip[0]), "c_out", f(c_out[0]))

# g. Score SDE-VE. NOTE: __init__ calls set_sigmas(2000), so a bare set_sigmas(10) reuses the
# 2000 existing timesteps (sigmas has 2000 entries) -- pipelines call set_timesteps(N) first.
v = ScoreSdeVeScheduler()
v.set_sigmas(10)
print("g.sde_ve.bare_set_sigmas(10).len(sigmas)", len(v.sigmas), "first/last", f([v.sigmas[0], v.sigmas[-1]]))
print("g.sde_ve.discrete_sigmas(10)", f(v.discrete_sigmas))
v = ScoreSdeVeScheduler()
v.set_timesteps(10)
v.set_sigmas(10)
print("g.sde_ve.timesteps(10)", f(v.timesteps))
print("g.sde_ve.sigmas(10)", f(v.sigmas))
print("g.sde_ve.discrete_sigmas(10)", f(v.discrete_sigmas))
